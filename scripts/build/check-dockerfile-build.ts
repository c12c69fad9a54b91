/**
 * npm run check:dockerfile — replays the Dockerfile's `build` stage without Docker (the
 * project's machines have no engine): copies exactly the files its COPY instructions name,
 * minus what .dockerignore excludes, into an empty folder, and runs the stage's
 * `npm run build` there. It fails when the build needs a file the image would not have
 * (a new directory that the Dockerfile does not COPY, a generated file .dockerignore drops
 * but the build expects), which nothing else here would notice before someone ran
 * `docker build`.
 *
 * The dependencies are the checkout's node_modules, linked rather than installed: the
 * stage's `npm ci --ignore-scripts` installs the same lockfile without install scripts,
 * as CI's `npm ci` does on these machines. Instructions other than FROM, COPY, RUN npm run
 * build and the lines before it are not interpreted.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from './build-paths';

const STAGE = 'build';

/** The sources of the stage's COPY instructions from the build context (not `--from` another stage). */
export function copiedPaths(dockerfile: string, stage: string): string[] {
  let current: string | undefined;
  const sources: string[] = [];
  for (const raw of dockerfile.split('\n')) {
    const line = raw.trim();
    const from = /^FROM\s+\S+(?:\s+AS\s+(\S+))?/i.exec(line);
    if (from) {
      current = from[1];
      continue;
    }
    if (current !== stage || !/^COPY\s/i.test(line)) continue;
    const args = line.split(/\s+/).slice(1);
    if (args.some((a) => a.startsWith('--from'))) continue;
    const operands = args.filter((a) => !a.startsWith('--'));
    sources.push(...operands.slice(0, -1));
  }
  return sources;
}

/**
 * A .dockerignore pattern as a test on a context-relative path, as Docker reads the simple
 * forms this repository uses: anchored at the context's root (`build` is ./build, not
 * scripts/build), `*` within one path segment, and a match also excludes what is under it.
 */
function ignoreTest(pattern: string): (rel: string) => boolean {
  const re = new RegExp(
    `^${pattern
      .replace(/^\//, '')
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '[^/]*')}(?:/.*)?$`,
  );
  return (rel) => re.test(rel);
}

function copyContext(sources: readonly string[], into: string, ignored: (rel: string) => boolean): void {
  const copy = (rel: string): void => {
    if (ignored(rel)) return;
    const from = path.join(REPO_ROOT, rel);
    if (statSync(from).isDirectory()) {
      for (const name of readdirSync(from)) copy(path.join(rel, name));
    } else {
      cpSync(from, path.join(into, rel));
    }
  };
  for (const source of sources) {
    if (!existsSync(path.join(REPO_ROOT, source))) throw new Error(`the Dockerfile copies ${source}, which does not exist`);
    copy(source);
  }
}

function main(): void {
  const dockerfile = readFileSync(path.join(REPO_ROOT, 'Dockerfile'), 'utf8');
  const sources = copiedPaths(dockerfile, STAGE);
  if (!sources.includes('package.json')) throw new Error(`found no COPY of package.json in the Dockerfile's ${STAGE} stage`);
  if (!/^RUN npm run build\s*$/m.test(dockerfile)) throw new Error('the Dockerfile does not RUN npm run build');
  const patterns = readFileSync(path.join(REPO_ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !l.startsWith('#'));
  const tests = patterns.map(ignoreTest);
  const dir = mkdtempSync(path.join(tmpdir(), 'keyed-chat-docker-build-'));
  try {
    copyContext(sources, dir, (rel) => tests.some((t) => t(rel)));
    symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
    console.log(`check:dockerfile: the ${STAGE} stage's context (${sources.join(' ')}) in ${dir}; npm run build`);
    const build = spawnSync('npm', ['run', 'build'], { cwd: dir, stdio: 'inherit', timeout: 600_000 });
    if (build.status !== 0) throw new Error(`npm run build failed in the Dockerfile's context (${build.status ?? build.signal})`);
    for (const file of ['main.js', 'migrate.js', 'build-info.json', 'web/index.html', 'migrations/migration_lock.toml']) {
      if (!existsSync(path.join(dir, 'dist', file))) throw new Error(`dist/${file} is missing from the build in the Dockerfile's context`);
    }
    console.log("check:dockerfile: the Dockerfile's build stage builds dist/");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

try {
  main();
} catch (error) {
  console.error(`check:dockerfile: FAILED: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
