import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
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
 * Compiles the worker child (the library and `test/faults/support`) to plain ESM JavaScript
 * once, in a temporary folder keyed by the sources' hash, and returns the entry to run with
 * plain `node`.
 *
 * Why not `node --import @swc-node/register/esm-register worker-process.ts`, which works too:
 * that loader brings the TypeScript compiler and an off-thread resolve hook into every child,
 * and a boot costs ~3 CPU-seconds instead of ~0.8. The kill -9 test boots 35 children on a
 * 2-core machine; the difference is a minute of CPU.
 */
export function buildWorkerEntry(): string {
  const files = SOURCE_DIRS.flatMap((dir) => listFiles(join(REPO_ROOT, dir)));
  const hash = createHash('sha256');
  for (const file of files) hash.update(relative(REPO_ROOT, file)).update(readFileSync(file));
  const outDir = join(tmpdir(), `nqs-fault-worker-${hash.digest('hex').slice(0, 16)}`);
  const entry = join(outDir, ENTRY);
  if (existsSync(join(outDir, '.complete'))) return entry;
  removeStaleBuilds();

  // Build next to the final folder, then rename: concurrent builders never see half a build.
  const staging = `${outDir}.${process.pid}.tmp`;
  rmSync(staging, { recursive: true, force: true });
  for (const file of files) {
    const target = join(staging, relative(REPO_ROOT, file));
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
  // Bare imports (@nestjs/core, ioredis) resolve through the repository's node_modules.
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(staging, 'node_modules'), 'dir');
  writeFileSync(join(staging, '.complete'), '');
  try {
    renameSync(staging, outDir);
  } catch {
    // Another test file built the same sources at the same moment: use theirs.
    rmSync(staging, { recursive: true, force: true });
  }
  return entry;
}

/** Builds of sources that changed since, left by earlier runs: gone after a day. */
function removeStaleBuilds(): void {
  const dayAgo = Date.now() - 86_400_000;
  for (const name of readdirSync(tmpdir())) {
    if (!name.startsWith('nqs-fault-worker-')) continue;
    const path = join(tmpdir(), name);
    try {
      if (statSync(path).mtimeMs < dayAgo) rmSync(path, { recursive: true, force: true });
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
