import { execFileSync } from 'node:child_process';
import path from 'node:path';

export const CLIENT_DIR = path.resolve(__dirname, '../../client');
export const CLIENT_CLI = path.join(CLIENT_DIR, 'dist', 'cli.js');

let built = false;

/**
 * Builds the client package (tsc → client/dist) once per test process, so a test of the
 * built package (the CLI, the packed tarball) never runs against a stale build.
 */
export function buildClient(): void {
  if (built) return;
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(CLIENT_DIR, 'tsconfig.json')], { stdio: 'pipe' });
  built = true;
}
