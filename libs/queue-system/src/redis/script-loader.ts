import { readdirSync, readFileSync } from 'node:fs';
import type { Cluster, Redis } from 'ioredis';

const LUA_DIR = new URL('./lua/', import.meta.url);
const INCLUDE = /^--- @include "([\w/-]+)"$/gm;
const FILE_NAME = /^([a-z-]+)-(\d+)\.lua$/;

/**
 * Bumped whenever the scripts' arguments or the job hash layout change. Version 2 packs a
 * job's options and entity in one `spec` field: jobs written by version 1 are not readable by
 * it (a worker sends them to `system_errors`), so drain queues before such an upgrade.
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
  /** The ioredis command it is registered as, e.g. `nqs3_fetch`. */
  command: string;
  numberOfKeys: number;
  lua: string;
}

/** The ioredis command a script is registered as: `fetch` -> `nqs3_fetch`. */
export function scriptCommand(name: string): string {
  return `nqs${SCRIPTS_VERSION}_${name.replaceAll('-', '_')}`;
}

/** Reads `lua/<name>-<numKeys>.lua`, inlines its `--- @include` lines, one definition per file. */
export function loadScriptDefinitions(): ScriptDefinition[] {
  return readdirSync(LUA_DIR)
    .filter((file) => file.endsWith('.lua'))
    .map((file) => {
      const match = FILE_NAME.exec(file);
      if (!match) throw new Error(`Lua script file name "${file}" is not <name>-<numKeys>.lua`);
      const [, name, keys] = match as unknown as [string, string, string];
      return {
        name,
        command: scriptCommand(name),
        numberOfKeys: Number(keys),
        lua: inlineIncludes(readFileSync(new URL(file, LUA_DIR), 'utf8')),
      };
    });
}

let cachedDefinitions: ScriptDefinition[] | undefined;

/** Registers every script on the client (EVALSHA, with EVAL on a cache miss, also in pipelines). */
export function defineScripts(client: Redis | Cluster): void {
  cachedDefinitions ??= loadScriptDefinitions();
  for (const script of cachedDefinitions) {
    client.defineCommand(script.command, { numberOfKeys: script.numberOfKeys, lua: script.lua });
  }
}

/** Replaces each `--- @include` line with the file it names, that file's own includes first. */
function inlineIncludes(source: string): string {
  return source.replace(INCLUDE, (_line, path: string) =>
    inlineIncludes(readFileSync(new URL(`${path}.lua`, LUA_DIR), 'utf8')),
  );
}
