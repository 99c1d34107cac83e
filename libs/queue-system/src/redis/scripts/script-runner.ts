import type { LayoutCheck } from '../layout-check.js';
import type { QueueKeys } from '../queue-keys.js';
import type { RedisClient } from '../redis-connection.js';
import { runScript, type ScriptArg } from '../script-loader.js';

/**
 * Runs the scripts of one namespace for the domain callers: once its layout check has passed,
 * when it has one. The check runs at bootstrap; only a process that booted while Redis was
 * unreachable meets it here, on its first call.
 */
export class ScriptRunner {
  constructor(
    readonly keys: QueueKeys,
    private readonly layout?: LayoutCheck,
  ) {}

  run(
    client: RedisClient,
    name: string,
    keys: readonly string[],
    args: readonly ScriptArg[],
  ): Promise<unknown> {
    const layout = this.layout;
    if (layout === undefined || layout.passed) return runScript(client, name, keys, args);
    return layout.ensure(client).then(() => runScript(client, name, keys, args));
  }
}
