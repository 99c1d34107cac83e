/**
 * The Lua scripts: one transition per file, `lua/<name>-<numKeys>.lua`, functions shared by
 * several scripts in `lua/includes/`. Each file opens with a header: what it does, `Input:`
 * (each KEYS[n] and ARGV[n]), `Built from the prefix:`, `Output:`.
 *
 * Which keys a script receives in KEYS, and which it builds from the key prefix. Every key of
 * a namespace is `<keyPrefix>{<namespace>}:<name>`: one hash tag, so all of them lie in the
 * cluster slot that KEYS[1] sends the call to, and building a key is as safe on Redis Cluster
 * as receiving it. The rule:
 * - KEYS holds the fixed-name keys (`active`, `metrics`, a dead-letter list, ...) that the
 *   script's own work touches whenever it has work to do.
 * - Keys named by data are built from the prefix (ARGV[1]): job hashes `job:<id>`, ready lists
 *   `ready:<priority>:<queue>`, rotations, worker entries, dedup windows.
 * - So are the keys of the opt-in features (queue gates, tenants, the event stream): their
 *   switches `gates`, `tenanted`, `events_listen`, `events_listen_ends` (and `tenant_policy`
 *   for a tenant's job), probed by EXISTS, and the keys each feature uses only once its switch
 *   is on (`events`, `tenant_*`, `wake` for a capped tenant's job). A namespace that uses none
 *   pays one EXISTS, not an argument per key on every call.
 * - So are the fixed keys that only some calls need: `dedup` (deduplicated jobs); at enqueue
 *   `specs`, `delayed` and `queues` (a compact, delayed or first job of a queue; a schedule's
 *   tick enqueues too, so it may build `queues`); a dead-letter
 *   list that fetch or stalled recovery sends an odd job to; `specs` and `leases` when a tenant
 *   gets its first cap; the keys `check-layout` reads once at boot.
 * A key in KEYS is an argument that every call sends; a key built costs only the calls that
 * need it, which keeps the hot calls short (an enqueue sends two keys). Each script's header
 * lists the keys it builds under `Built from the prefix:`. `test/lua-scripts.test.ts` holds
 * every script to its header and to this rule: the KEYS it lists match the file name and its
 * callers' keys, the keys it builds are the ones it names, and a fixed-name key it builds is
 * one of the above (its `BUILT_FIXED_KEYS`), else it must come in KEYS.
 *
 * Redis runs a script's whole text on every call, so each `local function` of a script and of
 * its includes is a closure made and collected per call: a script includes only what it calls
 * (the test checks that too), and the hot ones (enqueue, fetch, complete) keep few functions.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Command, type Cluster, type Redis } from 'ioredis';
import { QueueScriptError } from '../errors.js';
import { libraryFile } from '../library-root.js';

const LUA_DIR = libraryFile('redis/lua/');
const INCLUDE = /^--- @include "([\w/-]+)"$/gm;
const FILE_NAME = /^([a-z-]+)-(\d+)\.lua$/;

interface ScriptDefinition {
  /** The name of the file without the key count, e.g. `fetch`. */
  name: string;
  numberOfKeys: number;
  lua: string;
  /** What EVALSHA names it by. */
  sha: string;
}

export type ScriptArg = string | number;

/** Reads `lua/<name>-<numKeys>.lua`, inlines its `--- @include` lines, one definition per file. */
export function loadScriptDefinitions(): ScriptDefinition[] {
  return readdirSync(LUA_DIR)
    .filter((file) => file.endsWith('.lua'))
    .map((file) => {
      const match = FILE_NAME.exec(file);
      if (!match) throw new Error(`Lua script file name "${file}" is not <name>-<numKeys>.lua`);
      const [, name, keys] = match as unknown as [string, string, string];
      const lua = inlineIncludes(readFileSync(new URL(file, LUA_DIR), 'utf8'), file);
      return {
        name,
        numberOfKeys: Number(keys),
        lua,
        sha: createHash('sha1').update(lua).digest('hex'),
      };
    });
}

let definitions: Map<string, ScriptDefinition> | undefined;

/**
 * The script `lua/<name>-<numKeys>.lua`, read once per process. A folder or file that is not
 * there throws `QueueScriptError` naming it, with the file system's error as its cause.
 */
export function scriptNamed(name: string): ScriptDefinition {
  if (definitions === undefined) {
    try {
      definitions = new Map(loadScriptDefinitions().map((script) => [script.name, script]));
    } catch (cause) {
      const reason = 'the Lua scripts cannot be read (is the lua/ folder part of the build?)';
      throw new QueueScriptError(name, fileURLToPath(LUA_DIR), reason, { cause });
    }
  }
  const script = definitions.get(name);
  if (!script) {
    const file = `${fileURLToPath(LUA_DIR)}${name}-<numKeys>.lua`;
    // The folder was read whole, so the file system never failed on this one: its cause is
    // told as the file system would, so that one `cause.code` check covers both cases.
    const cause = Object.assign(new Error(`ENOENT: no such file, ${file}`), {
      code: 'ENOENT',
      path: file,
    });
    throw new QueueScriptError(name, file, 'no such file', { cause });
  }
  return script;
}

const UTF8 = { replyEncoding: 'utf8' as const };

/**
 * Runs the script `name` by EVALSHA, and by EVAL when Redis no longer has it (after a restart, a
 * failover or SCRIPT FLUSH), which caches it again. One ioredis command sent as is: the
 * scripting wrapper of ioredis (`defineCommand`) copied the arguments three times and added
 * a promise and a closure to every call.
 */
export function runScript(
  client: Redis | Cluster,
  name: string,
  keys: readonly string[],
  args: readonly ScriptArg[],
): Promise<unknown> {
  const script = scriptNamed(name);
  if (keys.length !== script.numberOfKeys) {
    throw new Error(
      `Lua script ${script.name} takes ${script.numberOfKeys} keys, got ${keys.length}`,
    );
  }
  const reply = client.sendCommand(
    new Command('evalsha', [script.sha, keys.length, ...keys, ...args], UTF8),
  ) as Promise<unknown>;
  return reply.catch((error: unknown) => {
    const noScript = error instanceof Error && error.message.startsWith('NOSCRIPT');
    if (!noScript) throw error;
    return client.sendCommand(
      new Command('eval', [script.lua, keys.length, ...keys, ...args], UTF8),
    ) as Promise<unknown>;
  });
}

/**
 * Replaces each `--- @include "<path>"` line with the file `lua/<path>.lua`, that file's own
 * includes first, and each file at most once per script: a second include of it is dropped, as
 * Lua would otherwise define its functions twice. A missing file or an include cycle throws,
 * naming the chain of includes. `read` gives an include's text (tests pass their own files).
 */
export function inlineIncludes(
  source: string,
  scriptName: string,
  read: (path: string) => string = readInclude,
): string {
  const inlined = new Set<string>();
  const chain = [scriptName];
  const expand = (text: string): string =>
    text.replace(INCLUDE, (_line, path: string) => {
      if (chain.includes(path)) {
        throw new Error(`Lua include cycle: ${[...chain, path].join(' -> ')}`);
      }
      if (inlined.has(path)) return '';
      let included: string;
      try {
        included = read(path);
      } catch (cause) {
        throw new Error(`Lua include "${path}" not found (${chain.join(' -> ')})`, { cause });
      }
      chain.push(path);
      const body = expand(included);
      chain.pop();
      inlined.add(path);
      return body;
    });
  return expand(source);
}

function readInclude(path: string): string {
  return readFileSync(new URL(`${path}.lua`, LUA_DIR), 'utf8');
}
