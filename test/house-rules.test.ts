import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const LIBS = join(ROOT, 'libs');
const MAX_FILE_LINES = 300;
const MAX_CLASS_LINES = 250;
const MAX_FUNCTION_LINES = 60;

/** Sources only: a package's build output (`dist`) is generated from them. */
function filesUnder(dir: string, extension: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'dist' ? [] : filesUnder(path, extension);
    return entry.name.endsWith(extension) ? [path] : [];
  });
}

interface Oversized {
  where: string;
  lines: number;
}

/** Classes and functions (methods, arrows, accessors) of a TypeScript file, with their length. */
function typescriptBlocks(file: string): { classes: Oversized[]; functions: Oversized[] } {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest);
  const classes: Oversized[] = [];
  const functions: Oversized[] = [];
  const lineOf = (pos: number) => source.getLineAndCharacterOfPosition(pos).line;
  const visit = (node: ts.Node) => {
    const lines = lineOf(node.getEnd()) - lineOf(node.getStart(source)) + 1;
    const where = `${relative(ROOT, file)}:${lineOf(node.getStart(source)) + 1}`;
    if (ts.isClassLike(node)) classes.push({ where, lines });
    else if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      functions.push({ where, lines });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return { classes, functions };
}

/** Lua functions: from a `function` line to the `end` at the same indentation. */
function luaFunctions(file: string): Oversized[] {
  const lines = readFileSync(file, 'utf8').split('\n');
  const found: Oversized[] = [];
  lines.forEach((line, start) => {
    const match = /^(\s*)(local\s+)?function\b/.exec(line);
    if (!match) return;
    const close = new RegExp(`^${match[1]}end\\b`);
    const end = lines.findIndex((text, i) => i > start && close.test(text));
    found.push({ where: `${relative(ROOT, file)}:${start + 1}`, lines: end - start + 1 });
  });
  return found;
}

/** The code of a script outside its header and its functions: the script's own body. */
function luaScriptBody(file: string): Oversized {
  const text = readFileSync(file, 'utf8').replace(/^--\[\[[\s\S]*?\]\]/, '');
  /** The indentation of the function being skipped, while inside one. */
  let inside: string | undefined;
  let lines = 0;
  for (const line of text.split('\n')) {
    if (inside !== undefined) {
      if (line.startsWith(`${inside}end`)) inside = undefined;
      continue;
    }
    const opening = /^(\s*)(local\s+)?function\b/.exec(line);
    if (opening) inside = opening[1]!;
    else if (line.trim() && !line.trim().startsWith('--')) lines++;
  }
  return { where: relative(ROOT, file), lines };
}

const over = (limit: number) => (block: Oversized) => block.lines > limit;

describe('the house rules of libs/', () => {
  const tsFiles = filesUnder(LIBS, '.ts');
  const luaFiles = filesUnder(LIBS, '.lua');
  /** Files shipped as they are: the thread runner, the dashboard's page, scripts and styles. */
  const assetFiles = ['.mjs', '.js', '.html', '.css'].flatMap((ext) => filesUnder(LIBS, ext));

  it(`has no source file over ${MAX_FILE_LINES} lines`, () => {
    const long = [...tsFiles, ...luaFiles, ...assetFiles]
      .map((file) => ({
        where: relative(ROOT, file),
        lines: readFileSync(file, 'utf8').split('\n').length - 1,
      }))
      .filter(over(MAX_FILE_LINES));
    expect(long).toEqual([]);
  });

  it(`has no class over ${MAX_CLASS_LINES} lines and no function over ${MAX_FUNCTION_LINES}`, () => {
    const scripts = assetFiles.filter((file) => /\.m?js$/.test(file));
    const blocks = [...tsFiles, ...scripts].map(typescriptBlocks);
    expect(blocks.flatMap((b) => b.classes).filter(over(MAX_CLASS_LINES))).toEqual([]);
    expect(blocks.flatMap((b) => b.functions).filter(over(MAX_FUNCTION_LINES))).toEqual([]);
  });

  it(`has no Lua function over ${MAX_FUNCTION_LINES} lines, nor a Lua script body over it`, () => {
    expect(luaFiles.flatMap(luaFunctions).filter(over(MAX_FUNCTION_LINES))).toEqual([]);
    expect(luaFiles.map(luaScriptBody).filter(over(MAX_FUNCTION_LINES))).toEqual([]);
  });
});
