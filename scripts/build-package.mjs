// Builds the package `nest-queue-system` into libs/queue-system/dist: tsc's JS, `.d.ts` and
// source maps as ES modules in dist/ and as CommonJS in dist/cjs/, plus every file of src/ that
// tsc does not emit (the Lua scripts, the thread runner, the dashboard page), which the library
// loads by URL at run time. Those files exist once, in dist/: both builds find them through
// their own `library-root` module. Plain Node with built-ins only.
//
// `--if-stale` skips the build when dist is newer than every input, so `npm start` and the
// tests that run the built package pay for a build only after a change. Builds are serialized
// by a lock directory and land by a rename, so two test files may ask for one at once.
import { execFile } from 'node:child_process';
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
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

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
  join(packageDir, 'tsconfig.cjs.json'),
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

/**
 * Every `libraryFile('<path>')` of the built JS must name a built file, and both builds'
 * `library-root` must point at the one folder that holds those files.
 */
async function checkRuntimeAssets(dir) {
  const missing = [];
  for (const file of filesUnder(dir).filter((f) => f.endsWith('.js') || f.endsWith('.mjs'))) {
    const code = readFileSync(file, 'utf8');
    for (const [, , path] of code.matchAll(/libraryFile\)?\((['"])([^'"]+)\1\)/g)) {
      if (!existsSync(join(dir, path))) missing.push(`${relative(dir, file)} -> ${path}`);
    }
  }
  if (missing.length)
    throw new Error(`Run-time files missing from the build:\n${missing.join('\n')}`);
  const expected = pathToFileURL(`${dir}/`).href;
  const esm = await import(pathToFileURL(join(dir, 'library-root.js')).href);
  const cjs = createRequire(import.meta.url)(join(dir, 'cjs', 'library-root.js'));
  for (const [format, found] of [
    ['ES module', esm.LIBRARY_ROOT.href],
    ['CommonJS', cjs.LIBRARY_ROOT.href],
  ]) {
    if (found !== expected) throw new Error(`The ${format} build finds its files in ${found}`);
  }
}

const run = promisify(execFile);

/**
 * The CommonJS build compiled `library-root.cjs.ts` in place of `library-root.ts` (through
 * `moduleSuffixes`); its output takes the name the other modules require.
 */
function nameCommonJsLibraryRoot(cjsDir) {
  for (const [from, to] of [
    ['library-root.cjs.js', 'library-root.js'],
    ['library-root.cjs.js.map', 'library-root.js.map'],
    ['library-root.cjs.d.ts', 'library-root.d.ts'],
  ]) {
    const text = readFileSync(join(cjsDir, from), 'utf8');
    writeFileSync(join(cjsDir, to), text.replaceAll('library-root.cjs.js', 'library-root.js'));
    rmSync(join(cjsDir, from));
  }
  // The package is `type: module`; this folder's .js files are CommonJS.
  writeFileSync(join(cjsDir, 'package.json'), `${JSON.stringify({ type: 'commonjs' })}\n`);
}

async function build() {
  const started = new Date();
  rmSync(staging, { force: true, recursive: true });
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const compile = (config, outDir) =>
    run(process.execPath, [tsc, '-p', join(packageDir, config), '--outDir', outDir]).catch(
      (error) => {
        throw new Error(`tsc -p ${config} failed:\n${error.stdout}${error.stderr}`);
      },
    );
  // Two processes at once: each spends much of its time on its own type checking.
  await Promise.all([
    compile('tsconfig.lib.json', staging),
    compile('tsconfig.cjs.json', join(staging, 'cjs')),
  ]);
  nameCommonJsLibraryRoot(join(staging, 'cjs'));
  for (const file of filesUnder(src).filter((f) => !f.endsWith('.ts'))) {
    const target = join(staging, relative(src, file));
    mkdirSync(dirname(target), { recursive: true });
    cpSync(file, target);
  }
  await checkRuntimeAssets(staging);
  rmSync(dist, { force: true, recursive: true });
  renameSync(staging, dist);
  // Dated from the start, so an input edited during the build makes the next one rebuild.
  utimesSync(join(dist, 'index.js'), started, started);
}

/** Builds dist unless `ifStale` and it is up to date; returns whether it built. */
export async function buildPackage({ ifStale = false } = {}) {
  if (ifStale && isFresh()) return false;
  return withLock(async () => {
    // Another build may have finished while this one waited for the lock.
    if (ifStale && isFresh()) return false;
    await build();
    return true;
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const built = await buildPackage({ ifStale: process.argv.includes('--if-stale') });
  console.error(`[build-package] ${built ? 'built' : 'up to date:'} ${relative(root, dist)}`);
}
