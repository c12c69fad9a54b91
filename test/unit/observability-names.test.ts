import { Histogram, Summary } from 'prom-client';
import { createMetrics } from '../../src/observability/metrics';
import { dashboardExprs, promqlMetricNames, readDeploy, yamlExprs, yamlInputSeries } from '../support/promql-names';

/**
 * The alert rules (deploy/prometheus) and the dashboard (deploy/grafana) name metrics by
 * hand; a metric renamed or removed in src/observability/metrics.ts would leave an alert
 * that never fires and a panel that stays empty, silently. Here every name they read must
 * be one the server exports, as exported (histograms as _bucket/_sum/_count).
 */
describe('metric names in alerts and dashboard', () => {
  const metrics = createMetrics();
  const exported = new Set<string>(['up']); // `up` is Prometheus's own, per scrape target
  // prom-client's typings call `type` a numeric enum while it holds a string: ask the class.
  for (const m of metrics.registry.getMetricsAsArray()) {
    if (m instanceof Histogram) for (const suffix of ['_bucket', '_sum', '_count']) exported.add(`${m.name}${suffix}`);
    else if (m instanceof Summary) for (const suffix of ['', '_sum', '_count']) exported.add(`${m.name}${suffix}`);
    else exported.add(m.name);
  }
  const unknown = (names: readonly string[]) => names.filter((n) => !exported.has(n));

  it('reads names the way PromQL does', () => {
    expect(
      promqlMetricNames('sum by (job, le) (rate(chat_send_deliver_seconds_bucket{job="$job", x=~"a|b"}[$__rate_interval])) > 2'),
    ).toEqual(['chat_send_deliver_seconds_bucket']);
    expect(promqlMetricNames('max by (job) (a_x) > sum without (instance) (b_y offset 5m) / 1e3 and on (job) up == bool 0')).toEqual([
      'a_x',
      'b_y',
      'up',
    ]);
    expect(promqlMetricNames('histogram_quantile(0.99, sum by (le) (rate(h_bucket[5m])))')).toEqual(['h_bucket']);
  });

  it('alerts.yml reads only exported metrics, in every rule', () => {
    const text = readDeploy('prometheus', 'alerts.yml');
    const exprs = yamlExprs(text);
    expect(exprs).toHaveLength((text.match(/^\s*- (?:alert|record):/gm) ?? []).length);
    const names = exprs.flatMap(promqlMetricNames);
    expect(names.length).toBeGreaterThanOrEqual(exprs.length);
    expect(unknown(names)).toEqual([]);
    // The alerts the operators' issue asked for are there.
    for (const needed of [
      'chat_consumer_lag',
      'chat_owned_partitions',
      'chat_request_partitions',
      'chat_outbox_oldest_pending_seconds',
      'chat_ready_check',
      'chat_produce_failures_total',
    ]) {
      expect(names).toContain(needed);
    }
  });

  it("alerts.test.yml's series are exported metrics (a test of a metric that does not exist proves nothing)", () => {
    const text = readDeploy('prometheus', 'alerts.test.yml');
    const names = [...yamlInputSeries(text), ...yamlExprs(text)].flatMap(promqlMetricNames);
    expect(names.length).toBeGreaterThan(0);
    expect(unknown(names)).toEqual([]);
  });

  it('the Grafana dashboard queries only exported metrics', () => {
    const exprs = dashboardExprs(JSON.parse(readDeploy('grafana', 'keyed-chat.json')));
    expect(exprs.length).toBeGreaterThan(20);
    const names = exprs.flatMap(promqlMetricNames);
    expect(unknown(names)).toEqual([]);
    // Every chat_ metric the server exports has a panel.
    const shown = new Set(names.map((n) => n.replace(/_(bucket|sum|count)$/, '')));
    const notShown = metrics.registry
      .getMetricsAsArray()
      .map((m) => m.name)
      .filter((n) => n.startsWith('chat_') && !shown.has(n));
    expect(notShown).toEqual([]);
  });
});
