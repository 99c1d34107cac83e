import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildRootOf, buildWorkerEntry, REPO_ROOT } from './support/build-worker.js';

/**
 * A checkout of this repository in the temp folder, with one source file of its own (`sources`
 * names it), so its compiled worker is never the one the fault tests use. Its node_modules is a
 * directory of its own holding the one package the check below imports.
 */
function makeCheckout(sources: string): string {
  const root = mkdtempSync(join(tmpdir(), 'nqs-checkout-'));
  for (const path of ['libs/queue-system/src', 'test/faults/support', 'package-lock.json']) {
    cpSync(join(REPO_ROOT, path), join(root, path), { recursive: true });
  }
  writeFileSync(
    join(root, 'test/faults/support/sources-id.ts'),
    `export const SOURCES = '${sources}';\n`,
  );
  mkdirSync(join(root, 'node_modules'));
  symlinkSync(
    join(REPO_ROOT, 'node_modules/reflect-metadata'),
    join(root, 'node_modules/reflect-metadata'),
    'dir',
  );
  return root;
}

/** Whether `reflect-metadata` loads from the compiled worker's folder, as the worker child loads it. */
function importsReflectMetadata(entry: string): boolean {
  const child = spawnSync(
    process.execPath,
    ['--input-type=module', '-e', "await import('reflect-metadata');"],
    { cwd: dirname(entry), encoding: 'utf8' },
  );
  return child.status === 0;
}

describe('fault suite: the compiled worker', () => {
  const removeAfter: string[] = [];

  afterAll(() => {
    for (const path of removeAfter) rmSync(path, { recursive: true, force: true });
  });

  it('links to the node_modules of the checkout that asks, not of one deleted since', () => {
    const sources = randomUUID();
    const deleted = makeCheckout(sources);
    removeAfter.push(deleted, buildRootOf(buildWorkerEntry(deleted)));
    // The same sources, cloned again elsewhere after the first clone was deleted.
    rmSync(deleted, { recursive: true, force: true });
    const fresh = makeCheckout(sources);
    const entry = buildWorkerEntry(fresh);
    removeAfter.push(fresh, buildRootOf(entry));

    expect(realpathSync(join(buildRootOf(entry), 'node_modules'))).toBe(
      realpathSync(join(fresh, 'node_modules')),
    );
    expect(importsReflectMetadata(entry)).toBe(true);
  });

  it('rebuilds a cached worker whose node_modules link no longer resolves', () => {
    const checkout = makeCheckout(randomUUID());
    const entry = buildWorkerEntry(checkout);
    removeAfter.push(checkout, buildRootOf(entry));
    const link = join(buildRootOf(entry), 'node_modules');
    rmSync(link);
    symlinkSync(join(checkout, 'deleted-since'), link, 'dir');

    expect(buildWorkerEntry(checkout)).toBe(entry);
    expect(realpathSync(link)).toBe(realpathSync(join(checkout, 'node_modules')));
    expect(importsReflectMetadata(entry)).toBe(true);
  });
});
