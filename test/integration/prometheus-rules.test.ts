import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

/** Debian's promtool (package `prometheus`); PROMTOOL_PATH overrides it. */
const PROMTOOL = process.env['PROMTOOL_PATH'] ?? '/usr/bin/promtool';
const DIR = path.join(__dirname, '..', '..', 'deploy', 'prometheus');

function promtool(...args: string[]): string {
  if (!existsSync(PROMTOOL)) {
    throw new Error(`promtool is required to check the alert rules and ${PROMTOOL} does not exist: install it with \`sudo apt-get install -y prometheus\` (or set PROMTOOL_PATH)`);
  }
  const run = spawnSync(PROMTOOL, args, { cwd: DIR, encoding: 'utf8', timeout: 60_000 });
  const output = `${run.stdout}${run.stderr}`;
  if (run.status !== 0) throw new Error(`promtool ${args.join(' ')} failed (${run.status ?? run.signal}):\n${output}`);
  return output;
}

/**
 * deploy/prometheus with Prometheus's own checker: the rules parse, the example scrape
 * configuration loads them, and alerts.test.yml's made-up series fire exactly the alerts
 * it expects (names, labels, rendered annotations) at the expected times.
 */
describe('Prometheus alert rules', () => {
  it('pass promtool check rules', () => {
    expect(promtool('check', 'rules', 'alerts.yml')).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('load from the example configuration', () => {
    expect(promtool('check', 'config', 'prometheus.yml')).toMatch(/SUCCESS/);
  });

  it('pass promtool test rules', () => {
    expect(promtool('test', 'rules', 'alerts.test.yml')).toMatch(/SUCCESS/);
  });
});
