import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadScriptDefinitions } from '../libs/queue-system/src/redis/script-loader.js';

const LUA_DIR = new URL('../libs/queue-system/src/redis/lua/', import.meta.url);
const files = readdirSync(LUA_DIR).filter((file) => file.endsWith('.lua'));

function maxIndex(text: string, name: 'KEYS' | 'ARGV'): number {
  const indexes = [...text.matchAll(new RegExp(`${name}\\[(\\d+)\\]`, 'g'))].map((m) =>
    Number(m[1]),
  );
  return Math.max(0, ...indexes);
}

describe('Lua scripts', () => {
  it.each(files)(
    '%s documents exactly the keys its file name declares, and uses no other',
    (file) => {
      const source = readFileSync(new URL(file, LUA_DIR), 'utf8');
      const declared = Number(/-(\d+)\.lua$/.exec(file)![1]);
      const header = /^--\[\[([\s\S]*?)\]\]/.exec(source)?.[1] ?? '';
      expect(header, 'a header block').toMatch(/Input:/);
      expect(header).toMatch(/Output:/);
      expect(maxIndex(header, 'KEYS')).toBe(declared);
      const body = source.slice(source.indexOf(']]') + 2);
      expect(maxIndex(body, 'KEYS')).toBeLessThanOrEqual(declared);
      // ARGV entries used in the body are documented (a range like ARGV[7..] covers the rest).
      const usesRange = /ARGV\[\d+\.\./.test(header);
      const documentedArgs = usesRange ? Number.POSITIVE_INFINITY : maxIndex(header, 'ARGV');
      expect(maxIndex(body, 'ARGV')).toBeLessThanOrEqual(documentedArgs);
    },
  );

  it('every include resolves and every script is known by the SHA1 of its whole text', () => {
    const definitions = loadScriptDefinitions();
    expect(definitions.map((d) => d.name).sort()).toEqual(
      files.map((f) => f.replace(/-\d+\.lua$/, '')).sort(),
    );
    for (const definition of definitions) {
      expect(definition.lua).not.toMatch(/--- @include/);
      expect(definition.sha).toBe(createHash('sha1').update(definition.lua).digest('hex'));
    }
  });
});
