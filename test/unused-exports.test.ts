import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SOURCE = 'libs/queue-system/src/';
const RUNTIME_EXPORT = /^export (?:async )?(?:abstract )?(?:const|let|function|class|enum) (\w+)/gm;

/** Tracked sources that may use an export: the library, its tests, the demo, bench, scripts. */
function trackedSources(): string[] {
  const listed = execFileSync('git', ['ls-files', 'libs', 'test', 'apps', 'bench', 'scripts'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  return listed.split('\n').filter((file) => /\.(ts|mjs|js|html)$/.test(file));
}

/** The files the package's entry re-exports whole (`export * from`): their exports are public. */
function publicFiles(texts: Map<string, string>): Set<string> {
  const open = [`${SOURCE}index.ts`];
  const found = new Set<string>();
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

describe('exports', () => {
  it('every runtime export of the library is used by another file or is public', () => {
    const files = trackedSources();
    const texts = new Map(files.map((file) => [file, readFileSync(join(ROOT, file), 'utf8')]));
    const exempt = publicFiles(texts);
    const unused: string[] = [];
    for (const [file, text] of texts) {
      if (!file.startsWith(SOURCE) || exempt.has(file)) continue;
      for (const [, name] of text.matchAll(RUNTIME_EXPORT)) {
        const word = new RegExp(`\\b${name}\\b`);
        const used = files.some((other) => other !== file && word.test(texts.get(other)!));
        if (!used) unused.push(`${file.slice(SOURCE.length)} ${name}`);
      }
    }
    // Exported yet used only where it is declared: drop the `export`, or the code.
    expect(unused).toEqual([]);
  });
});
