import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

/**
 * The release build compiles src/ alone into dist/ (tsconfig.build.json), and a
 * production install has none of the tooling's dependencies: a module of src/ that
 * imported from scripts/ or test/ would break the build (tsc would follow the import out
 * of rootDir) or `node dist/main.js` (the tooling's dev dependencies are not installed).
 */
const ROOT = path.resolve(__dirname, '..', '..');
const SRC = path.join(ROOT, 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return name === 'generated' ? [] : sourceFiles(full);
    return full.endsWith('.ts') ? [full] : [];
  });
}

describe('source layering', () => {
  it('no module in src/ imports from outside src/ by a relative path', () => {
    const files = sourceFiles(SRC);
    expect(files.length).toBeGreaterThan(50);
    const offenders = files.flatMap((file) => {
      const text = readFileSync(file, 'utf8');
      const specifiers = [...text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^import\s+)['"]([^'"]+)['"]/gm)].map(
        (m) => m[1] ?? '',
      );
      return specifiers
        .filter((s) => s.startsWith('.'))
        .map((s) => path.relative(ROOT, path.resolve(path.dirname(file), s)))
        .filter((target) => !target.startsWith(`src${path.sep}`))
        .map((target) => `${path.relative(ROOT, file)} imports ${target}`);
    });
    expect(offenders).toEqual([]);
  });
});
