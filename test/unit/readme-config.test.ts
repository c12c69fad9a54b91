import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { configDefaults, configVariables } from '../../src/config/config';

/**
 * The README's configuration table against the config schema: every variable the server
 * reads is documented, nothing documented is unread, and every plain default in the
 * table (numbers and bare words) is the schema's.
 */
const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
const table = (): { names: string[]; defaults: string[] }[] => {
  const start = readme.indexOf('| variable | default | meaning |');
  expect(start).toBeGreaterThan(-1);
  const rows = readme.slice(start).split('\n').slice(2);
  const end = rows.findIndex((line) => !line.startsWith('|'));
  return rows.slice(0, end).map((line) => {
    const [names = '', defaults = ''] = line
      .split('|')
      .slice(1)
      .map((c) => c.trim());
    return { names: [...names.matchAll(/`([A-Z0-9_]+)`/g)].map((m) => m[1]!), defaults: defaults.split(',').map((d) => d.trim()) };
  });
};

describe('README configuration table', () => {
  it('lists exactly the variables the config module reads', () => {
    const documented = table()
      .flatMap((r) => r.names)
      .sort();
    expect(documented).toEqual([...configVariables].sort());
  });

  it("gives the schema's defaults where it states a plain value", () => {
    const defaults = configDefaults();
    const checked: string[] = [];
    for (const row of table()) {
      if (row.defaults.length !== row.names.length) continue;
      row.names.forEach((name, i) => {
        const stated = row.defaults[i]!;
        // Plain values only: "unset: …", "random per process …" and the like are prose.
        if (!/^[A-Za-z0-9._-]+$/.test(stated) || stated === 'none') return;
        const actual = defaults[name];
        expect({ name, default: Array.isArray(actual) ? actual.join(',') : String(actual) }).toEqual({ name, default: stated });
        checked.push(name);
      });
    }
    expect(checked.length).toBeGreaterThan(30);
  });
});
