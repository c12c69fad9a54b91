import { callerOf, codeOwner, fileOf, kernelActivity, leafKind, readSamples, type Sample } from '../../scripts/bench/perf-summary';

// Two samples as `perf script -F comm,pid,tid,ip,sym,dso` prints them (cut short), taken
// from a bench run: a socket write on the main thread, and a compiler helper thread.
const OUTPUT = `node  7774/7774  
\tffffffff8225fd19 pvm_irq_enable ([kernel.kallsyms])
\tffffffff81e84cde sock_def_readable ([kernel.kallsyms])
\tffffffff8206e58b tcp_sendmsg ([kernel.kallsyms])
\tffffffff816d6bc3 ksys_write ([kernel.kallsyms])
\tffffffff8225a6c1 do_syscall_64 ([kernel.kallsyms])
\t           f838f __GI___libc_write (/usr/lib/x86_64-linux-gnu/libc.so.6)
\t          9d5d53 node::StreamBase::WriteBuffer (/usr/bin/node)
\t    7f1f3241996d JS:*Socket._writeGeneric node:net:927:42 (/tmp/perf-7774.map)
\t    7f1f3209b3dd JS:^sendRequest /work/main/node_modules/kafkajs/src/network/connection.js:408:26 (/tmp/perf-7774.map)
\t    7f1f32377074 JS:*processTicksAndRejections node:internal/process/task_queues:67:35 (/tmp/perf-7774.map)

node  7774/7781  
\t         1dbf1a3 v8::internal::compiler::GraphReducer::ReduceTop (/usr/bin/node)
\t          c4993d v8::internal::(anonymous namespace)::Invoke (/usr/bin/node)

`;

async function* lines(text: string): AsyncGenerator<string> {
  yield* text.split('\n');
}

describe('perf-summary', () => {
  let samples: Sample[];
  beforeAll(async () => {
    samples = [];
    for await (const s of readSamples(lines(OUTPUT))) samples.push(s);
  });

  it('reads each sample with its thread and its stack, leaf first', () => {
    expect(samples.map((s) => [s.thread, s.frames.length])).toEqual([
      ['main', 10],
      ['helper', 2],
    ]);
    expect(samples[0]!.frames[0]).toEqual({ symbol: 'pvm_irq_enable', dso: '[kernel.kallsyms]' });
  });

  it('names what a sample was executing, and charges it to the nearest package up the stack', () => {
    expect(leafKind(samples[0]!.frames[0])).toBe('kernel');
    expect(leafKind(samples[1]!.frames[0])).toBe('node: V8 compilers');
    expect(samples[0]!.frames.map(codeOwner).find((o) => o !== undefined)).toBe('kafkajs');
    // node's own JavaScript (node:net) is not code of ours or of a package
    expect(codeOwner(samples[0]!.frames[7]!)).toBeUndefined();
  });

  it('finds the system call a kernel stack is in, wherever interrupts left the sample', () => {
    expect(kernelActivity(samples[0]!.frames)).toBe('write');
    expect(
      kernelActivity([
        { symbol: 'pvm_irq_enable', dso: '[kernel.kallsyms]' },
        { symbol: 'finish_task_switch.isra.0', dso: '[kernel.kallsyms]' },
        { symbol: '__schedule', dso: '[kernel.kallsyms]' },
      ]),
    ).toBe('(context switch)');
  });

  it('names the caller that made a package work: the nearest other package or source frame above it', () => {
    const js = (name: string, file: string) => ({ symbol: `JS:*${name} ${file}:1:1`, dso: '/tmp/perf-1.map' });
    const zodUnder = (caller: ReturnType<typeof js>) => [
      { symbol: 'Builtins_LoadIC_Megamorphic', dso: '/usr/bin/node' },
      js('parse', '/work/main/node_modules/zod/v4/core/schemas.js'),
      js('safeParse', '/work/main/node_modules/zod/v4/core/parse.js'),
      caller,
      js('runPipeline', '/work/main/src/adapters/record-pipeline.ts'),
    ];
    expect(callerOf(zodUnder(js('publish', '/work/main/src/adapters/kafka/kafka-publisher.ts')), 'zod')).toBe(
      'src/adapters/kafka/kafka-publisher.ts',
    );
    expect(callerOf(zodUnder(js('decodeRecord', '/work/main/src/adapters/record-pipeline.ts')), 'zod')).toBe(
      'src/adapters/record-pipeline.ts',
    );
    // Charged to something else first: not zod's.
    expect(callerOf([js('send', '/work/main/node_modules/ws/lib/sender.js'), ...zodUnder(js('x', '/work/main/src/app.ts'))], 'zod')).toBe(
      undefined,
    );
    expect(callerOf([js('parse', '/work/main/node_modules/zod/v4/core/schemas.js')], 'zod')).toBe('(none)');
  });

  it('names the file of a package a sample was charged through', () => {
    const js = (name: string, file: string) => ({ symbol: `JS:*${name} ${file}:12:3`, dso: '/tmp/perf-1.map' });
    const stack = [
      { symbol: 'Builtins_LoadIC', dso: '/usr/bin/node' },
      js('writeVarInt', '/work/main/node_modules/kafkajs/src/protocol/encoder.js'),
      js('encode', '/work/main/node_modules/kafkajs/src/protocol/requests/produce/v3/request.js'),
      js('publish', '/work/main/src/adapters/kafka/kafka-producer.ts'),
    ];
    expect(fileOf(stack, 'kafkajs')).toBe('src/protocol/encoder.js');
    expect(fileOf(stack, 'zod')).toBeUndefined();
    expect(fileOf(stack.slice(3), 'kafkajs')).toBeUndefined();
  });
});
