import { spawn } from 'node:child_process';
import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Records where our instances spend their CPU during one load step with Linux `perf`
 * (`perf record -e cpu-clock -g -p <pids>`), for `perf-summary.ts` to read.
 *
 * Why perf and not V8's `--cpu-prof`: `cpu-clock` samples a thread only while it runs on a
 * CPU, so a process preempted inside a system call is not billed for the wait. On a
 * saturated 2-core machine V8's sampler bills exactly that wait (a write to a broker's
 * socket wakes the broker, which takes the CPU), and its profiles added up to twice the
 * CPU /proc counted (docs/benchmarks.md, fourth round). perf also sees the kernel's share of
 * our CPU (system calls, TCP), which V8's profiles cannot. The instances must run with
 * `--perf-basic-prof`, so that perf can name JavaScript frames (from /tmp/perf-<pid>.map).
 * That map only grows: once V8 frees or moves code and reuses its address, perf may name a
 * sample after the function that had the address first (2–5 % of the samples of a load had
 * a stack that cannot be, docs/benchmarks.md, sixth round). Read file-level shares with that
 * margin; V8's jitdump (`--perf-prof`, `perf inject --jit`) times each code load and avoids it.
 */
export interface PerfRecorder {
  /** Starts a recording named `label`; the returned function stops it and resolves once the file is written. */
  start(label: string): Promise<() => Promise<void>>;
}

/** Samples per second per CPU; 499 keeps perf's own cost under 1 % of a core. */
export const PERF_FREQUENCY = 499;

export function createPerfRecorder({
  dir,
  pids,
  frequency = PERF_FREQUENCY,
}: {
  /** Where `<label>.data` goes. */
  dir: string;
  /** The processes to record (read at each start: instances may restart). */
  pids: () => readonly number[];
  /** Samples per second per CPU (perf-summary.ts reads files recorded at PERF_FREQUENCY). */
  frequency?: number;
}): PerfRecorder {
  return {
    async start(label) {
      await mkdir(dir, { recursive: true });
      const file = join(dir, `${label}.data`);
      const perf = spawn('perf', ['record', '-q', '-e', 'cpu-clock', '-F', String(frequency), '-g', '-p', pids().join(','), '-o', file], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      perf.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
        perf.once('error', reject);
        perf.once('exit', (code, signal) => resolve({ code, signal }));
      });
      // perf creates its output file once it is attached; a missing perf, or a kernel that
      // refuses (perf_event_paranoid), ends it at once instead.
      const deadline = Date.now() + 10_000;
      for (;;) {
        if (perf.exitCode !== null) throw new Error(`perf record exited with ${perf.exitCode}: ${stderr.trim()}`);
        if (
          await stat(file).then(
            () => true,
            () => false,
          )
        )
          break;
        if (Date.now() > deadline) {
          perf.kill('SIGKILL');
          throw new Error(`perf record did not start within 10 s: ${stderr.trim()}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      return async () => {
        perf.kill('SIGINT');
        const { code, signal } = await exited;
        // perf record finishes its file on SIGINT, then raises SIGINT on itself again to end.
        if (code !== 0 && signal !== 'SIGINT') throw new Error(`perf record for ${label} ended with ${code ?? signal}: ${stderr.trim()}`);
      };
    },
  };
}
