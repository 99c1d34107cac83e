import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import type { Command } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { LayoutCheck } from '../libs/queue-system/src/redis/layout-check.js';
import { QueueKeys } from '../libs/queue-system/src/redis/queue-keys.js';
import { QueueScripts } from '../libs/queue-system/src/redis/queue-scripts.js';
import {
  inlineIncludes,
  loadScriptDefinitions,
} from '../libs/queue-system/src/redis/script-loader.js';
import { rawRedis, uniquePrefix } from './support/queue-test-app.js';

const LUA_DIR = new URL('../libs/queue-system/src/redis/lua/', import.meta.url);
const files = readdirSync(LUA_DIR).filter((file) => file.endsWith('.lua'));
const includeFiles = readdirSync(new URL('includes/', LUA_DIR)).map((file) => `includes/${file}`);
const definitions = loadScriptDefinitions();

/**
 * The keys with a fixed name that a script may receive in KEYS (see script-loader.ts: keys
 * named by data, job hashes and ready lists, are always built from the prefix).
 */
const FIXED_KEYS = new Set([
  'tenant_policy',
  'tenant_active',
  'tenant_tokens',
  'active',
  'delayed',
  'queues',
  'metrics',
  'specs',
  'leases',
  'wake',
  'dedup',
  'failures',
  'system_errors',
  'dead-letter',
  'layout',
  'workers',
  'gates',
  'breakers',
  'schedules',
  'schedule_due',
]);

/** The starts of the keys named by data, always built from the prefix (see script-loader.ts). */
const DATA_KEYS = new Set(['job:', 'ready:', 'rotation:', 'worker:', 'dedup_window:']);

/**
 * The KEYS rule of script-loader.ts: the fixed-name keys a script may build from the prefix
 * rather than receive in KEYS, each with the scripts that may ('any': every script). Every
 * other fixed-name key a script touches must come in KEYS.
 */
const BUILT_FIXED_KEYS: Record<string, readonly string[] | 'any'> = {
  // Opt-in features: the switches, probed by EXISTS, and the keys used once a switch is on.
  gates: 'any',
  tenanted: 'any',
  events_listen: 'any',
  events_listen_ends: 'any',
  events: 'any',
  tenant_policy: 'any',
  tenant_active: 'any',
  tenant_tokens: 'any',
  tenant_turn: 'any',
  // A capped tenant's job ended: its slot frees room, so idle workers wake.
  wake: ['complete', 'dead-letter', 'fetch'],
  // Fixed keys only some calls need: a deduplicated job; a compact, delayed or first job of a
  // queue at enqueue (a tick enqueues); an odd job sent to a dead-letter list; a tenant's first
  // cap; the layout check at boot.
  dedup: 'any',
  specs: ['enqueue', 'tenant-policy', 'check-layout'],
  delayed: ['enqueue', 'check-layout'],
  queues: ['enqueue', 'tick-schedules', 'check-layout'],
  leases: ['tenant-policy'],
  failures: ['recover-stalled', 'check-layout'],
  system_errors: ['fetch', 'check-layout'],
  active: ['check-layout'],
};

/** The script's text without its Lua comments, header included. */
function code(lua: string): string {
  return lua.replace(/--\[\[[\s\S]*?\]\]/g, '').replace(/--.*$/gm, '');
}

/** KEYS[n] -> the key's name in the header's `Input:` (`KEYS[1] active zset` -> active). */
function headerKeys(header: string): Map<number, string> {
  return new Map([...header.matchAll(/KEYS\[(\d+)\]\s+([\w-]+)/g)].map((m) => [+m[1]!, m[2]!]));
}

/** The keys the header says are built from the prefix: `job:<id>` -> job:, `dedup` -> dedup. */
function headerBuiltKeys(header: string): Set<string> {
  const section = /Built from the prefix[^:]*:([\s\S]*?)Output:/.exec(header)?.[1] ?? '';
  return new Set([...section.matchAll(/`([a-z_]+:?)[^`]*`/g)].map((m) => m[1]!));
}

/** The keys the (inlined) script builds as `prefix .. '<name>'`. */
function builtKeys(lua: string): Set<string> {
  return new Set([...code(lua).matchAll(/\bprefix\s*\.\.\s*'([a-z_]+:?)/g)].map((m) => m[1]!));
}

function indexes(text: string, name: 'KEYS' | 'ARGV'): number[] {
  return [...text.matchAll(new RegExp(`${name}\\[(\\d+)\\]`, 'g'))].map((m) => Number(m[1]));
}

/**
 * What breaks the key rule or misdescribes the script `file` (its text `source`, `inlined`
 * with its includes): an empty list when its header tells the truth.
 */
function headerProblems(file: string, source: string, inlined: string): string[] {
  const problems: string[] = [];
  const declared = Number(/-(\d+)\.lua$/.exec(file)![1]);
  const header = /^--\[\[([\s\S]*?)\]\]/.exec(source)?.[1] ?? '';
  for (const part of ['Input:', 'Built from the prefix', 'Output:']) {
    if (!header.includes(part)) problems.push(`header has no "${part}"`);
  }
  const keys = headerKeys(header);
  const listed = [...keys.keys()].sort((a, b) => a - b);
  const expected = Array.from({ length: declared }, (_, i) => i + 1);
  if (listed.join() !== expected.join()) {
    problems.push(`header lists KEYS[${listed.join(',')}], file name declares ${declared}`);
  }
  for (const name of keys.values()) {
    if (!FIXED_KEYS.has(name)) problems.push(`KEYS holds "${name}", not a key with a fixed name`);
  }
  const body = code(inlined);
  for (const n of expected) {
    if (!body.includes(`KEYS[${n}]`)) problems.push(`KEYS[${n}] is never used`);
  }
  if (Math.max(0, ...indexes(body, 'KEYS')) > declared) problems.push('uses undeclared KEYS');
  const argRange = /ARGV\[\d+\.\./.test(header);
  if (
    !argRange &&
    Math.max(0, ...indexes(body, 'ARGV')) > Math.max(0, ...indexes(header, 'ARGV'))
  ) {
    problems.push('uses ARGV the header does not document');
  }
  const built = builtKeys(inlined);
  const named = headerBuiltKeys(header);
  for (const key of built) if (!named.has(key)) problems.push(`builds "${key}" unnamed`);
  for (const key of named) if (!built.has(key)) problems.push(`names "${key}", never built`);
  for (const key of built) {
    if ([...keys.values()].includes(key)) problems.push(`both receives and builds "${key}"`);
  }
  const script = file.replace(/-\d+\.lua$/, '');
  for (const key of built) {
    const allowed = BUILT_FIXED_KEYS[key];
    if (DATA_KEYS.has(key) || allowed === 'any' || allowed?.includes(script)) continue;
    problems.push(`builds "${key}", which the KEYS rule puts in KEYS`);
  }
  if (built.size > 0 && !/ARGV\[1\]\s+key prefix/.test(header)) {
    problems.push('builds keys but ARGV[1] is not the key prefix');
  }
  if (/ARGV\[1\]\s*\.\./.test(body)) problems.push("builds a key from ARGV[1], not from 'prefix'");
  return problems;
}

/** Each `local function` of a Lua file, with its length in lines (to its `end`). */
function luaFunctions(text: string): { name: string; lines: number }[] {
  const lines = text.split('\n');
  return lines.flatMap((line, at) => {
    const match = /^(\s*)local function (\w+)/.exec(line);
    if (!match) return [];
    const end = lines.findIndex((other, i) => i > at && other === `${match[1]}end`);
    return [{ name: match[2]!, lines: end - at + 1 }];
  });
}

/** A script file's text for checking the header check itself. */
function fixtureScript(keys: string, built: string, body: string): string {
  return `--[[\n  Input:\n    ${keys}\n    ARGV[1] key prefix\n  Built from the prefix:\n    ${built}\n  Output:\n    1\n]]\nlocal prefix = ARGV[1]\n${body}`;
}

/** Reads includes from `sources`, as the loader reads them from lua/. */
function readFrom(sources: Record<string, string>): (path: string) => string {
  return (path) => {
    if (!(path in sources)) throw new Error(`no ${path}`);
    return sources[path]!;
  };
}

describe('Lua scripts', () => {
  it.each(files)(
    '%s: its header lists its KEYS as the file name declares and names every key it builds',
    (file) => {
      const source = readFileSync(new URL(file, LUA_DIR), 'utf8');
      const inlined = definitions.find((d) => d.name === file.replace(/-\d+\.lua$/, ''))!.lua;
      expect(headerProblems(file, source, inlined)).toEqual([]);
    },
  );

  it('the header check catches a key built unnamed, KEYS off the file name, a data key in KEYS, a fixed key built against the KEYS rule', () => {
    const good = fixtureScript(
      'KEYS[1] active zset',
      '`dedup`',
      "redis.call('HDEL', prefix .. 'dedup', KEYS[1])",
    );
    expect(headerProblems('x-1.lua', good, good)).toEqual([]);
    const unnamed = fixtureScript(
      'KEYS[1] active zset',
      'none',
      "redis.call('DEL', prefix .. 'dedup', KEYS[1])",
    );
    expect(headerProblems('x-1.lua', unnamed, unnamed)).toEqual(['builds "dedup" unnamed']);
    const twoKeys = fixtureScript('KEYS[1] active zset', 'none', "redis.call('DEL', KEYS[1])");
    expect(headerProblems('x-2.lua', twoKeys, twoKeys)).toEqual([
      'header lists KEYS[1], file name declares 2',
      'KEYS[2] is never used',
    ]);
    const jobInKeys = fixtureScript('KEYS[1] job hash', 'none', "redis.call('DEL', KEYS[1])");
    expect(headerProblems('x-1.lua', jobInKeys, jobInKeys)).toEqual([
      'KEYS holds "job", not a key with a fixed name',
    ]);
    const fixedBuilt = fixtureScript(
      'KEYS[1] active zset',
      '`metrics`, `specs`',
      "redis.call('ZREM', KEYS[1], redis.call('HGET', prefix .. 'specs', prefix .. 'metrics'))",
    );
    expect(headerProblems('x-1.lua', fixedBuilt, fixedBuilt)).toEqual([
      'builds "specs", which the KEYS rule puts in KEYS',
      'builds "metrics", which the KEYS rule puts in KEYS',
    ]);
  });

  it.each([...files, ...includeFiles])(
    '%s: at most 300 lines, each function and the script body at most 60',
    (file) => {
      const text = readFileSync(new URL(file, LUA_DIR), 'utf8');
      expect(text.split('\n').length).toBeLessThanOrEqual(300);
      const functions = luaFunctions(text);
      expect(functions.filter((fn) => fn.lines > 60 || fn.lines < 2)).toEqual([]);
      const inFunctions = functions.reduce((sum, fn) => sum + fn.lines, 0);
      const codeLines = code(text)
        .split('\n')
        .filter((line) => line.trim() !== '').length;
      expect(codeLines - inFunctions).toBeLessThanOrEqual(60);
    },
  );

  it.each(definitions.map((d) => d.name))(
    '%s calls every function it defines (each is a closure made on every call)',
    (name) => {
      const lua = code(definitions.find((d) => d.name === name)!.lua);
      const defined = [...lua.matchAll(/^local function (\w+)/gm)].map((m) => m[1]!);
      const unused = defined.filter((fn) => lua.split(new RegExp(`\\b${fn}\\(`)).length < 3);
      expect(unused).toEqual([]);
    },
  );

  it('every include resolves and every script is known by the SHA1 of its whole text', () => {
    expect(definitions.map((d) => d.name).sort()).toEqual(
      files.map((f) => f.replace(/-\d+\.lua$/, '')).sort(),
    );
    for (const definition of definitions) {
      expect(definition.lua).not.toMatch(/--- @include/);
      expect(definition.sha).toBe(createHash('sha1').update(definition.lua).digest('hex'));
    }
  });

  it('inlines each include once per script, its own includes first', () => {
    const sources: Record<string, string> = {
      'includes/a': '--- @include "includes/c"\nlocal function a() end',
      'includes/b': '--- @include "includes/c"\nlocal function b() end',
      'includes/c': 'local function c() end',
    };
    const script = '--- @include "includes/a"\n--- @include "includes/b"\nreturn 1';
    const inlined = inlineIncludes(script, 'x-1.lua', (path) => sources[path]!);
    expect(inlined.match(/local function \w/g)).toEqual([
      'local function c',
      'local function a',
      'local function b',
    ]);
    for (const definition of definitions) {
      const names = [...definition.lua.matchAll(/^local function (\w+)/gm)].map((m) => m[1]);
      const twice = names.filter((name, i) => names.indexOf(name) !== i);
      expect({ script: definition.name, twice }).toEqual({ script: definition.name, twice: [] });
    }
  });

  it('names the chain of includes of a missing include and of a cycle', () => {
    const missing = readFrom({ 'includes/a': '--- @include "includes/gone"' });
    expect(() => inlineIncludes('--- @include "includes/a"', 'x-1.lua', missing)).toThrow(
      'Lua include "includes/gone" not found (x-1.lua -> includes/a)',
    );
    const cycle = readFrom({
      'includes/a': '--- @include "includes/b"',
      'includes/b': '--- @include "includes/a"',
    });
    expect(() => inlineIncludes('--- @include "includes/a"', 'x-1.lua', cycle)).toThrow(
      'Lua include cycle: x-1.lua -> includes/a -> includes/b -> includes/a',
    );
  });
});

describe('Lua script callers', () => {
  const redis = rawRedis();
  afterAll(() => redis.quit());

  it('pass each script the keys its header lists, in that order', async () => {
    const keys = new QueueKeys(uniquePrefix('lua-keys'), 'default');
    const passed = new Map<string, string[]>();
    const bySha = new Map(definitions.map((d) => [d.sha, d.name]));
    const send = redis.sendCommand.bind(redis);
    // Records the keys of each EVALSHA on its way to the real server.
    redis.sendCommand = ((command: Command) => {
      if (command.name === 'evalsha') {
        const [sha, count, ...rest] = command.args as string[];
        passed.set(bySha.get(sha)!, rest.slice(0, Number(count)));
      }
      return send(command);
    }) as typeof redis.sendCommand;

    const scripts = new QueueScripts(keys);
    const job = { id: 'a', mayExist: false, queueName: 'q', queueField: false };
    await scripts.enqueue(
      redis,
      [{ ...job, priority: 'normal', dueAt: 0, spec: '["q"]\n{}' }],
      Date.now(),
      false,
    );
    const request = {
      now: Date.now(),
      leaseDeadline: Date.now() + 1000,
      tokenPrefix: 'w',
      slots: 1,
    };
    await scripts.fetch(redis, { ...request, busy: 0, queues: undefined, queueLimits: new Map() });
    await scripts.completeMany(redis, [{ id: 'a', token: 'stale', result: '' }], Date.now(), 0);
    await scripts.retry(redis, 'a', 'stale', 'error', Date.now(), false);
    await scripts.defer(redis, 'a', 'stale', Date.now());
    await scripts.deadLetter(redis, 'failures', 'a', 'stale', 'error', Date.now(), false);
    await scripts.requeue(redis, 'a', 'stale', 'normal', 'q');
    await scripts.extendLeases(redis, new Map([['a', 'stale']]), Date.now());
    await scripts.recoverStalled(redis, Date.now(), 5, 10);
    await scripts.progress(redis, 'a', 'stale', '50');
    await scripts.readJob(redis, 'a');
    await scripts.status(redis);
    await scripts.backlog(redis, Date.now());
    await scripts.purge(redis, 'normal', 'q');
    await scripts.retryDeadLetters(redis, 'system_errors', 10, []);
    await scripts.reportWorker(redis, 'w', { slots: 1 }, Date.now(), 0);
    await scripts.gates.pause(redis, 'q', true);
    await scripts.gates.setRateLimit(redis, 'q', { max: 1, duration: 1000 });
    await scripts.gates.recordBreaker(redis, 'q', false, Date.now(), { failures: 5, coolDown: 1 });
    await scripts.gates.runningInQueue(redis, 'q');
    await scripts.tenants.setPolicy(redis, 't', {
      weight: 2,
      rateLimit: { max: 5, duration: 1000 },
    });
    await scripts.gates.declareRateLimit(redis, 'q', { max: 2, duration: 1000 });
    await scripts.tenants.counts(redis, undefined);
    await scripts.schedules.upsert(redis, 's', '{"cron":"* * * * * *","timeZone":""}', Date.now());
    await scripts.schedules.tick(redis, [{ name: 's', dueAt: 0, nextDueAt: 1 }], Date.now());
    await scripts.schedules.remove(redis, 's');
    await new LayoutCheck(keys).ensure(redis);

    expect([...passed.keys()].sort()).toEqual(definitions.map((d) => d.name).sort());
    for (const file of files) {
      const name = file.replace(/-\d+\.lua$/, '');
      const header = /^--\[\[([\s\S]*?)\]\]/.exec(
        readFileSync(new URL(file, LUA_DIR), 'utf8'),
      )![1]!;
      const listed = [...headerKeys(header)].sort(([a], [b]) => a - b).map(([, key]) => key);
      const names = passed.get(name)!.map((key, i) => {
        const own = key.slice(keys.base.length);
        const deadLetter =
          listed[i] === 'dead-letter' && ['failures', 'system_errors'].includes(own);
        return key.startsWith(keys.base) && deadLetter ? 'dead-letter' : own;
      });
      expect({ file, keys: names }).toEqual({ file, keys: listed });
    }
  });
});
