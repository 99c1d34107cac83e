import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { transformSync, type Options } from '@swc/core';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** The sources the worker child needs, relative to the repository root. */
const SOURCE_DIRS = ['libs/queue-system/src', 'test/faults/support'];
const ENTRY = 'test/faults/support/worker-process.js';
const BUILD_PREFIX = 'nqs-fault-worker-';

/** What `tsconfig.json` asks for, as SWC options: legacy decorators with their metadata. */
const SWC_OPTIONS: Options = {
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: true },
    target: 'es2022',
    keepClassNames: true,
  },
  module: { type: 'es6' },
  sourceMaps: 'inline',
  swcrc: false,
  configFile: false,
};

/**
 * Compiles the worker child (the library and `test/faults/support`) of the checkout at
 * `repoRoot` to plain ESM JavaScript once, in a temporary folder, and returns the entry to run
 * with plain `node`.
 *
 * The folder is keyed by the sources, the lockfile and the real path of the node_modules it
 * links to: a build links to one checkout's packages, so another checkout (or this one after
 * the first was deleted) must never reuse it. A cached build is reused only if its link still
 * resolves to those packages.
 *
 * Why not `node --import @swc-node/register/esm-register worker-process.ts`, which works too:
 * that loader brings the TypeScript compiler and an off-thread resolve hook into every child,
 * and a boot costs several times the CPU. The kill -9 test boots dozens of children on a
 * 2-core machine.
 */
export function buildWorkerEntry(repoRoot: string = REPO_ROOT): string {
  const nodeModules = installedPackages(repoRoot);
  const files = SOURCE_DIRS.flatMap((dir) => listFiles(join(repoRoot, dir)));
  const hash = createHash('sha256').update(nodeModules).update('\0');
  const lockfile = join(repoRoot, 'package-lock.json');
  if (existsSync(lockfile)) hash.update(readFileSync(lockfile));
  for (const file of files) hash.update(relative(repoRoot, file)).update(readFileSync(file));
  const outDir = join(tmpdir(), `${BUILD_PREFIX}${hash.digest('hex').slice(0, 16)}`);
  const entry = join(outDir, ENTRY);
  if (existsSync(join(outDir, '.complete')) && relinked(outDir, nodeModules)) return entry;
  removeStaleBuilds();

  // Build next to the final folder, then rename: concurrent builders never see half a build.
  const staging = `${outDir}.${process.pid}.tmp`;
  rmSync(staging, { recursive: true, force: true });
  for (const file of files) {
    const target = join(staging, relative(repoRoot, file));
    mkdirSync(dirname(target), { recursive: true });
    if (file.endsWith('.ts')) {
      const { code } = transformSync(readFileSync(file, 'utf8'), {
        ...SWC_OPTIONS,
        filename: file,
      });
      writeFileSync(target.replace(/\.ts$/, '.js'), code);
    } else {
      cpSync(file, target);
    }
  }
  writeFileSync(join(staging, 'package.json'), '{ "type": "module" }\n');
  // Bare imports (@nestjs/core, ioredis) resolve through the checkout's node_modules.
  symlinkSync(nodeModules, join(staging, 'node_modules'), 'dir');
  writeFileSync(join(staging, '.complete'), '');
  try {
    renameSync(staging, outDir);
  } catch {
    // Another test file built the same sources at the same moment: use theirs.
    rmSync(staging, { recursive: true, force: true });
  }
  return entry;
}

/** The folder a compiled worker's `entry` lives in (its node_modules link is there). */
export function buildRootOf(entry: string): string {
  return entry.slice(0, -ENTRY.length - 1);
}

/** The real path of the checkout's node_modules, or an error saying how to get one. */
function installedPackages(repoRoot: string): string {
  try {
    return realpathSync(join(repoRoot, 'node_modules'));
  } catch {
    throw new Error(`${repoRoot} has no node_modules: run \`npm ci\` (or \`npm test\`) first`);
  }
}

/**
 * Whether a cached build's node_modules resolves to `nodeModules`, once pointed back at it if
 * it did not. The sources are those of the key, so only the link needs making again; a rename
 * swaps it in at once, so concurrent test files never see the build without one. False if the
 * build went away meanwhile: build it again.
 */
function relinked(outDir: string, nodeModules: string): boolean {
  const link = join(outDir, 'node_modules');
  try {
    if (realpathSync(link) === nodeModules) return true;
  } catch {
    // Dangling: the folder it pointed at is gone.
  }
  const fresh = `${link}.${process.pid}.tmp`;
  try {
    rmSync(fresh, { force: true });
    symlinkSync(nodeModules, fresh, 'dir');
    renameSync(fresh, link);
    return true;
  } catch {
    return false;
  }
}

/**
 * Builds left by earlier runs: those of deleted checkouts (their link no longer resolves) go
 * now, those of sources that changed since go after a day. Builds still in staging keep theirs.
 */
function removeStaleBuilds(): void {
  const dayAgo = Date.now() - 86_400_000;
  for (const name of readdirSync(tmpdir())) {
    if (!name.startsWith(BUILD_PREFIX)) continue;
    const path = join(tmpdir(), name);
    try {
      const orphan = !name.endsWith('.tmp') && !existsSync(join(path, 'node_modules'));
      if (orphan || statSync(path).mtimeMs < dayAgo) rmSync(path, { recursive: true, force: true });
    } catch {
      // Removed by another run meanwhile.
    }
  }
}

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return listFiles(path);
    return entry.name.endsWith('.test.ts') ? [] : [path];
  });
}
