import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return tsFiles(full);
    return e.name.endsWith('.ts') ? [full] : [];
  });
}

/** Every module specifier a file imports or re-exports (static and dynamic, literal ones). */
function specifiers(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)['"]([^'"]+)['"]/g)].map((m) => m[1]!);
}

/**
 * The boundary between the server and the client package: the server never imports the
 * client (it stays free of client code), and the client imports nothing outside its own
 * sources but Node built-ins (it is packed and installed alone; a reach into src/ would
 * break the tarball).
 */
describe('client package boundary', () => {
  it('src/ imports nothing from client/', () => {
    const offending = tsFiles(path.join(ROOT, 'src')).flatMap((f) =>
      specifiers(f)
        .filter((s) => s.startsWith('.') && path.resolve(path.dirname(f), s).startsWith(path.join(ROOT, 'client')))
        .map((s) => `${path.relative(ROOT, f)}: ${s}`),
    );
    expect(offending).toEqual([]);
  });

  it('client/src imports only itself and node: built-ins', () => {
    const clientSrc = path.join(ROOT, 'client', 'src');
    const offending = tsFiles(clientSrc).flatMap((f) =>
      specifiers(f)
        .filter((s) => !(s.startsWith('node:') || (s.startsWith('.') && path.resolve(path.dirname(f), s).startsWith(clientSrc))))
        .map((s) => `${path.relative(ROOT, f)}: ${s}`),
    );
    expect(offending).toEqual([]);
  });
});
