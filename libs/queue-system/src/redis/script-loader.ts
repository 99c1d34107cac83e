import { readdirSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { Command, type Cluster, type Redis } from 'ioredis';

const LUA_DIR = new URL('./lua/', import.meta.url);
const INCLUDE = /^--- @include "([\w/-]+)"$/gm;
const FILE_NAME = /^([a-z-]+)-(\d+)\.lua$/;

/**
 * Bumped whenever the job layout changes. A change of a script's arguments alone needs no
 * bump: scripts are called by the SHA1 of their text, so each process runs its own.
 * Version 2 packs a job's options and entity in one `spec` field: jobs written by version 1
 * are not readable by it (a worker sends them to `system_errors`), so drain queues before
 * such an upgrade.
 * Version 3 stores a job's `queue` only when it is not named after its processor (the spec
 * header names the processor): it reads version 2 jobs, but version 2 workers cannot place
 * version 3 jobs that are delayed, retried or recovered, so stop them before enqueueing with it.
 * Version 4 keeps a job enqueued with nothing of its own but its spec without a hash (spec in
 * `specs`, lease in `leases`) when completed jobs are deleted at once, until a transition
 * other than fetch and ack gives it one: it reads version 3 jobs, but a version 3 worker
 * drops such a job (it finds no hash), so stop version 3 workers before enqueueing with it.
 */
export const SCRIPTS_VERSION = '4';

export interface ScriptDefinition {
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
      const lua = inlineIncludes(readFileSync(new URL(file, LUA_DIR), 'utf8'));
      return {
        name,
        numberOfKeys: Number(keys),
        lua,
        sha: createHash('sha1').update(lua).digest('hex'),
      };
    });
}

let definitions: Map<string, ScriptDefinition> | undefined;

/** The script `lua/<name>-<numKeys>.lua`, read once per process. */
export function scriptNamed(name: string): ScriptDefinition {
  definitions ??= new Map(loadScriptDefinitions().map((script) => [script.name, script]));
  const script = definitions.get(name);
  if (!script) throw new Error(`No Lua script named "${name}"`);
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

/** Replaces each `--- @include` line with the file it names, that file's own includes first. */
function inlineIncludes(source: string): string {
  return source.replace(INCLUDE, (_line, path: string) =>
    inlineIncludes(readFileSync(new URL(`${path}.lua`, LUA_DIR), 'utf8')),
  );
}
