/**
 * `npm run cluster -- --instances 3 [--port 3000]`: N instances of src/main.ts on
 * consecutive ports behind a round-robin load balancer on one port, on the real Kafka,
 * PostgreSQL and Redis (started with `npm run infra:up` if they are not running). Each
 * instance's log lines are prefixed with its name. Ctrl-C (or SIGTERM) stops them all
 * gracefully; an instance that dies is reported and the balancer routes around it.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { createLoadBalancer } from './load-balancer';

const ROOT = join(__dirname, '..', '..');
const { values } = parseArgs({
  options: {
    instances: { type: 'string', short: 'n', default: '3' },
    port: { type: 'string', short: 'p', default: '3000' },
    'no-infra': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  process.stdout.write(
    'usage: npm run cluster -- [--instances N] [--port P] [--no-infra]\n  the balancer listens on P, instances on P+1..P+N\n',
  );
  process.exit(0);
}
const count = Number(values.instances);
const port = Number(values.port);
if (!Number.isInteger(count) || count < 1 || count > 16 || !Number.isInteger(port) || port < 1 || port + count > 65535) {
  process.stderr.write('--instances must be 1..16 and --port a valid port\n');
  process.exit(2);
}

if (!values['no-infra']) {
  const up = spawnSync('bash', [join(ROOT, 'scripts/infra/infra.sh'), 'up'], { stdio: 'inherit' });
  if (up.status !== 0) process.exit(up.status ?? 1);
}

// Shared by every instance: tokens issued by one are accepted by all, and the sealed
// passwords on Kafka open everywhere. Taken from the environment when set.
const env: Record<string, string> = {
  KAFKA_BROKERS: '127.0.0.1:19092,127.0.0.1:19093,127.0.0.1:19094',
  DATABASE_URL: 'postgresql://postgres@127.0.0.1:5432/chat',
  REDIS_URL: 'redis://127.0.0.1:6379',
  JWT_SECRET: randomBytes(32).toString('hex'),
  ...Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined)),
};

const colors = [36, 33, 35, 32, 34, 31];
const children: ChildProcess[] = [];
let stopping = false;
for (let i = 1; i <= count; i++) {
  const name = `instance-${i}`;
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/main.ts')], {
    cwd: ROOT,
    env: { ...env, PORT: String(port + i), INSTANCE_ID: `${env['INSTANCE_PREFIX'] ?? 'local'}-${i}` },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const prefix = `\x1b[${colors[(i - 1) % colors.length]}m${name.padEnd(11)}|\x1b[0m `;
  for (const stream of [child.stdout!, child.stderr!])
    createInterface({ input: stream }).on('line', (line) => process.stdout.write(`${prefix}${line}\n`));
  child.on('exit', (code, signal) => {
    if (!stopping) process.stdout.write(`${prefix}exited (${signal ?? code}); the balancer routes around it\n`);
  });
  children.push(child);
}

const backends = Array.from({ length: count }, (_, i) => ({ host: '127.0.0.1', port: port + i + 1 }));
const balancer = createLoadBalancer({ backends, onError: (m) => process.stdout.write(`balancer   | ${m}\n`) });
balancer.listen(port, '127.0.0.1', () => {
  process.stdout.write(
    `balancer   | http://127.0.0.1:${port} → ${backends.map((b) => b.port).join(', ')} (round robin, HTTP and WebSocket)\n`,
  );
});

const stop = (): void => {
  if (stopping) return;
  stopping = true;
  process.stdout.write('balancer   | stopping all instances…\n');
  balancer.close();
  balancer.closeAllConnections();
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  const force = setTimeout(() => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  }, 20_000);
  force.unref();
  void Promise.all(children.map((c) => (c.exitCode !== null ? Promise.resolve() : new Promise((r) => c.once('exit', r))))).then(() =>
    process.exit(0),
  );
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
