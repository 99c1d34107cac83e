import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SOURCE = 'libs/queue-system/src/';
const RUNTIME_EXPORT = /^export (?:async )?(?:abstract )?(?:const|let|function|class|enum) (\w+)/gm;
const TYPE_EXPORT = /^export (?:declare )?(?:interface|type) (\w+)/gm;
/** Types exported though no other file names them, each with why. */
const TYPES_KEPT: Record<string, string> = {
  // The declaration emitted for DashboardController's inferred `overview` return type names it.
  'dashboard/dashboard-reader.ts DashboardQueue': 'declaration emit',
};

/** Tracked sources that may use an export: the library, its tests, the demo, bench, scripts. */
function trackedSources(): string[] {
  const listed = execFileSync('git', ['ls-files', 'libs', 'test', 'apps', 'bench', 'scripts'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  // Not this file: a name in TYPES_KEPT is no use of it.
  return listed
    .split('\n')
    .filter((file) => /\.(ts|mjs|js|html)$/.test(file) && file !== 'test/unused-exports.test.ts');
}

/** The package's entry points (`exports` of its package.json), as source files. */
function entryFiles(): string[] {
  const manifest = JSON.parse(
    readFileSync(join(ROOT, 'libs/queue-system/package.json'), 'utf8'),
  ) as {
    exports: Record<string, string | { import?: { types?: string } }>;
  };
  return Object.values(manifest.exports).flatMap((target) => {
    const types = typeof target === 'string' ? undefined : target.import?.types;
    return types ? [`${SOURCE}${types.replace(/^\.\/dist\//, '').replace(/\.d\.ts$/, '.ts')}`] : [];
  });
}

/** The files the package's entries re-export whole (`export * from`): their exports are public. */
function publicFiles(texts: Map<string, string>): Set<string> {
  const open = entryFiles();
  const found = new Set<string>(open);
  while (open.length > 0) {
    const file = open.pop()!;
    for (const match of (texts.get(file) ?? '').matchAll(/^export \* from '(.+)\.js';/gm)) {
      const target = join(file, '..', `${match[1]}.ts`);
      if (found.has(target)) continue;
      found.add(target);
      open.push(target);
    }
  }
  return found;
}

/** Exports matched by `pattern` that no other tracked file names and no entry makes public. */
function unusedExports(pattern: RegExp): string[] {
  const files = trackedSources();
  const texts = new Map(files.map((file) => [file, readFileSync(join(ROOT, file), 'utf8')]));
  const exempt = publicFiles(texts);
  const unused: string[] = [];
  for (const [file, text] of texts) {
    if (!file.startsWith(SOURCE) || exempt.has(file)) continue;
    for (const [, name] of text.matchAll(pattern)) {
      const word = new RegExp(`\\b${name}\\b`);
      const used = files.some((other) => other !== file && word.test(texts.get(other)!));
      if (!used) unused.push(`${file.slice(SOURCE.length)} ${name}`);
    }
  }
  return unused;
}

describe('exports', () => {
  it('every runtime export of the library is used by another file or is public', () => {
    // Exported yet used only where it is declared: drop the `export`, or the code.
    expect(unusedExports(RUNTIME_EXPORT)).toEqual([]);
  });

  it('every exported type of the library is named by another file or is public', () => {
    const unused = unusedExports(TYPE_EXPORT).filter((entry) => !(entry in TYPES_KEPT));
    expect(unused).toEqual([]);
  });

  it('every type kept exported without a user is still exported', () => {
    expect(unusedExports(TYPE_EXPORT).toSorted()).toEqual(Object.keys(TYPES_KEPT).toSorted());
  });
});
