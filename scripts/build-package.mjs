// Builds the package `nest-queue-system` into libs/queue-system/dist: tsc's JS, `.d.ts` and
// source maps, plus every file of src/ that tsc does not emit (the Lua scripts, the thread
// runner), which the library loads by URL at run time. Plain Node with built-ins only.
//
// `--if-stale` skips the build when dist is newer than every input, so `npm start` and the
// tests that run the built package pay for a build only after a change. Builds are serialized
// by a lock directory and land by a rename, so two test files may ask for one at once.
import { execFileSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
export const packageDir = join(root, 'libs', 'queue-system');
const src = join(packageDir, 'src');
const dist = join(packageDir, 'dist');
const staging = join(packageDir, '.dist-tmp');
const lock = join(packageDir, '.dist-lock');
/** A lock older than this was left by a build that died; builds take seconds. */
const STALE_LOCK_MS = 5 * 60_000;

function filesUnder(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? filesUnder(path) : [path];
  });
}

/** Folders count too: removing a file changes only its folder's time. */
function foldersUnder(dir) {
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .flatMap((entry) => [join(dir, entry.name), ...foldersUnder(join(dir, entry.name))]);
}

const INPUTS = () => [
  src,
  ...foldersUnder(src),
  ...filesUnder(src),
  join(packageDir, 'tsconfig.lib.json'),
  join(packageDir, 'package.json'),
  join(root, 'tsconfig.json'),
  fileURLToPath(import.meta.url),
];

function isFresh() {
  const built = join(dist, 'index.js');
  if (!existsSync(built)) return false;
  const builtAt = statSync(built).mtimeMs;
  return INPUTS().every((file) => statSync(file).mtimeMs <= builtAt);
}

async function withLock(work) {
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
      if (Date.now() - statSync(lock).mtimeMs > STALE_LOCK_MS)
        rmSync(lock, { force: true, recursive: true });
      else await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  try {
    return await work();
  } finally {
    rmSync(lock, { force: true, recursive: true });
  }
}

/** Every `new URL('<relative path>', import.meta.url)` of the built JS must name a built file. */
function checkRuntimeAssets(dir) {
  const missing = [];
  for (const file of filesUnder(dir).filter((f) => f.endsWith('.js') || f.endsWith('.mjs'))) {
    const code = readFileSync(file, 'utf8');
    for (const [, , path] of code.matchAll(
      /new URL\((['"])(\.{1,2}\/[^'"]*)\1, import\.meta\.url\)/g,
    )) {
      const target = fileURLToPath(new URL(path, pathToFileURL(file)));
      if (!existsSync(target)) missing.push(`${relative(dir, file)} -> ${path}`);
    }
  }
  if (missing.length)
    throw new Error(`Run-time files missing from the build:\n${missing.join('\n')}`);
}

function build() {
  const started = new Date();
  rmSync(staging, { force: true, recursive: true });
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const config = join(packageDir, 'tsconfig.lib.json');
  execFileSync(process.execPath, [tsc, '-p', config, '--outDir', staging], { stdio: 'inherit' });
  for (const file of filesUnder(src).filter((f) => !f.endsWith('.ts'))) {
    const target = join(staging, relative(src, file));
    mkdirSync(dirname(target), { recursive: true });
    cpSync(file, target);
  }
  checkRuntimeAssets(staging);
  rmSync(dist, { force: true, recursive: true });
  renameSync(staging, dist);
  // Dated from the start, so an input edited during the build makes the next one rebuild.
  utimesSync(join(dist, 'index.js'), started, started);
}

/** Builds dist unless `ifStale` and it is up to date; returns whether it built. */
export async function buildPackage({ ifStale = false } = {}) {
  if (ifStale && isFresh()) return false;
  return withLock(() => {
    // Another build may have finished while this one waited for the lock.
    if (ifStale && isFresh()) return false;
    build();
    return true;
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const built = await buildPackage({ ifStale: process.argv.includes('--if-stale') });
  console.error(`[build-package] ${built ? 'built' : 'up to date:'} ${relative(root, dist)}`);
}
