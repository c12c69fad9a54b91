import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { dashboardExprs, substituteGrafanaVariables } from '../support/promql-names';

/** Debian's promtool (package `prometheus`); PROMTOOL_PATH overrides it. */
const PROMTOOL = process.env['PROMTOOL_PATH'] ?? '/usr/bin/promtool';
const DIR = path.join(__dirname, '..', '..', 'deploy', 'prometheus');

function promtool(...args: string[]): string {
  return promtoolIn(DIR, ...args);
}

function promtoolIn(cwd: string, ...args: string[]): string {
  if (!existsSync(PROMTOOL)) {
    throw new Error(
      `promtool is required to check the alert rules and ${PROMTOOL} does not exist: install it with \`sudo apt-get install -y prometheus\` (or set PROMTOOL_PATH)`,
    );
  }
  const run = spawnSync(PROMTOOL, args, { cwd, encoding: 'utf8', timeout: 60_000 });
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

  it("the Grafana dashboard's queries are valid PromQL (checked as recording rules, Grafana's variables filled in)", () => {
    const exprs = dashboardExprs(JSON.parse(readFileSync(path.join(DIR, '..', 'grafana', 'keyed-chat.json'), 'utf8')));
    const rules = exprs
      .map((e, i) => `      - record: keyed_chat_dashboard_query_${i}\n        expr: ${JSON.stringify(substituteGrafanaVariables(e))}\n`)
      .join('');
    const dir = mkdtempSync(path.join(tmpdir(), 'keyed-chat-dashboard-'));
    try {
      writeFileSync(path.join(dir, 'dashboard.rules.yml'), `groups:\n  - name: dashboard\n    rules:\n${rules}`);
      expect(promtoolIn(dir, 'check', 'rules', 'dashboard.rules.yml')).toContain(`SUCCESS: ${exprs.length} rules found`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
