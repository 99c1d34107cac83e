import type { LayoutCheck } from '../layout-check.js';
import type { QueueKeys } from '../queue-keys.js';
import type { RedisClient } from '../redis-connection.js';
import type { ReplicationWait } from '../replication-wait.js';
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
    private readonly replication?: ReplicationWait,
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

  /**
   * A write someone is told about (an enqueue, an ack): with `redis.durability`, followed by a
   * `WAIT` on the same connection (`strict`: short of replicas rejects, else warns); without
   * it, `run` itself.
   */
  durable(
    client: RedisClient,
    name: string,
    keys: readonly string[],
    args: readonly ScriptArg[],
    strict: boolean,
  ): Promise<unknown> {
    const wait = this.replication;
    if (wait === undefined) return this.run(client, name, keys, args);
    const layout = this.layout;
    if (layout === undefined || layout.passed) return wait.run(client, name, keys, args, strict);
    return layout.ensure(client).then(() => wait.run(client, name, keys, args, strict));
  }
}
