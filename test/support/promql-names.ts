import { readFileSync } from 'node:fs';
import path from 'node:path';

/** What Grafana substitutes before a query reaches Prometheus, with values that parse. */
const GRAFANA_VARIABLES: Readonly<Record<string, string>> = {
  __rate_interval: '5m',
  __interval: '1m',
  __range: '1h',
  job: 'keyed-chat',
  instance: '.*',
};

/** A dashboard or rule expression with Grafana's variables ($job, ${job}, [$__rate_interval]) replaced. */
export function substituteGrafanaVariables(expr: string): string {
  return expr.replace(
    /\$\{(\w+)\}|\$(\w+)/g,
    (whole, braced: string | undefined, bare: string | undefined) => GRAFANA_VARIABLES[braced ?? bare ?? ''] ?? whole,
  );
}

const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'and',
  'or',
  'unless',
  'offset',
  'inf',
  'nan',
  'atan2',
]);

/**
 * The metric names a PromQL expression reads. Strings, label matchers, ranges, grouping
 * label lists, numbers and durations are removed; of the identifiers left, those followed
 * by `(` are functions or aggregations and the rest are metric names. (PromQL keeps
 * metric names and label names apart by position, which is all this relies on.)
 */
export function promqlMetricNames(expr: string): string[] {
  let s = substituteGrafanaVariables(expr);
  s = s.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""');
  s = s.replace(/\{[^}]*\}/g, ' ');
  s = s.replace(/\[[^\]]*\]/g, ' ');
  s = s.replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  s = s.replace(/\b\d+(?:ms|s|m|h|d|w|y)\b/g, ' ');
  s = s.replace(/(?<![\w:])(?:0x[0-9a-f]+|\d+(?:\.\d*)?(?:e[+-]?\d+)?|\.\d+(?:e[+-]?\d+)?)/gi, ' ');
  const names = new Set<string>();
  for (const m of s.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*(?!\s*\(|[a-zA-Z0-9_:])/g)) {
    if (!KEYWORDS.has(m[0].toLowerCase())) names.add(m[0]);
  }
  return [...names];
}

/**
 * The `expr:` values of a Prometheus rules file (alerts, recording rules, promtool test
 * cases), plain or as a block scalar (`expr: |`). The project's files use these two forms;
 * the caller checks the count against the rules it expects, so another form cannot slip by.
 */
export function yamlExprs(text: string): string[] {
  const lines = text.split('\n');
  const exprs: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^(\s*)(?:-\s+)?expr:\s*(.*)$/.exec(lines[i]!);
    if (m === null) continue;
    const indent = m[1]!.length;
    const value = m[2]!.trim();
    if (/^[|>][+-]?$/.test(value)) {
      const block: string[] = [];
      while (i + 1 < lines.length && (lines[i + 1]!.trim() === '' || /^\s*/.exec(lines[i + 1]!)![0].length > indent))
        block.push(lines[++i]!.trim());
      exprs.push(block.join(' ').trim());
    } else {
      exprs.push(value.replace(/^'(.*)'$/, '$1').replace(/^"(.*)"$/, '$1'));
    }
  }
  return exprs;
}

/** The series selectors of a promtool test file's `input_series`. */
export function yamlInputSeries(text: string): string[] {
  return [...text.matchAll(/^\s*-?\s*series:\s*'([^']*)'/gm)].map((m) => m[1]!);
}

/** Every query of a Grafana dashboard: panel targets (rows' nested panels too) and query variables. */
export function dashboardExprs(dashboard: unknown): string[] {
  const exprs: string[] = [];
  const walk = (node: unknown, key: string): void => {
    if (Array.isArray(node)) for (const n of node) walk(n, key);
    else if (node !== null && typeof node === 'object') for (const [k, v] of Object.entries(node)) walk(v, k);
    else if (typeof node === 'string' && (key === 'expr' || key === 'definition')) {
      // label_values(<selector>, <label>): only the selector is PromQL.
      const lv = /^label_values\((.*),\s*\w+\)$/.exec(node.trim());
      exprs.push(lv !== null ? lv[1]! : node);
    }
  };
  walk(dashboard, '');
  return exprs;
}

export const DEPLOY_DIR = path.join(__dirname, '..', '..', 'deploy');
export const readDeploy = (...parts: string[]): string => readFileSync(path.join(DEPLOY_DIR, ...parts), 'utf8');
