import type { QueueKeys } from '../queue-keys.js';
import type { RedisClient } from '../redis-connection.js';
import { runScript, type ScriptArg } from '../script-loader.js';

/** Runs the scripts of one namespace for the domain callers. */
export class ScriptRunner {
  constructor(readonly keys: QueueKeys) {}

  run(
    client: RedisClient,
    name: string,
    keys: readonly string[],
    args: readonly ScriptArg[],
  ): Promise<unknown> {
    return runScript(client, name, keys, args);
  }
}
