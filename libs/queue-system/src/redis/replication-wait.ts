import { Cluster } from 'ioredis';
import type { QueueDurabilityOptions } from '../config/index.js';
import { QueueDurabilityError } from '../errors.js';
import type { QueueLogger } from '../utils/queue-logger.js';
import type { RedisClient } from './redis-connection.js';
import { refreshSlots } from './cluster-watch.js';
import { scriptNamed, type ScriptArg } from './script-loader.js';

/** Warnings about acks short of replicas, at most one per this many ms. */
const WARN_EVERY = 10_000;

/** Slot map reads and resends of one call that meets MOVED or ASK on a Cluster. */
const REDIRECTIONS = 5;

type PipelineReply = [error: Error | null, result: unknown][] | null;

/**
 * `redis.durability`: a script then `WAIT replicas timeout`, pipelined on one connection, so
 * that the wait covers exactly the writes of that script. Only the calls that acknowledge
 * something to someone go through it: an enqueue (to the producer), an ack, retry or dead
 * letter (before the callback runs and the slot's next job is fetched).
 */
export class ReplicationWait {
  private warnedAt = -Infinity;

  constructor(
    private readonly options: QueueDurabilityOptions,
    private readonly logger: QueueLogger,
  ) {}

  /**
   * Runs the script and waits for the replicas. Short of them, `strict` rejects with
   * `QueueDurabilityError` (the write was applied on the master); otherwise the reply stands
   * and the shortfall is logged: a worker's transition lost in a failover runs the job again,
   * it never loses it.
   */
  async run(
    client: RedisClient,
    name: string,
    keys: readonly string[],
    args: readonly ScriptArg[],
    strict: boolean,
  ): Promise<unknown> {
    let cached = true;
    for (let redirections = 0; ;) {
      const [reply, replicas] = await this.send(client, name, keys, args, cached);
      const error = reply[0];
      if (cached && error?.message.startsWith('NOSCRIPT')) {
        cached = false;
        continue;
      }
      // A Cluster redirects a pipeline only when its other commands are reads, and WAIT is
      // not one: after a failover the script meets MOVED, which did not run it. Send it again
      // once the slot map names the new master.
      if (isRedirection(error) && client instanceof Cluster && redirections++ < REDIRECTIONS) {
        await refreshSlots(client);
        continue;
      }
      if (error) throw error;
      if (replicas[0]) throw replicas[0];
      const acknowledged = Number(replicas[1]);
      if (acknowledged < this.options.replicas) this.shortfall(name, acknowledged, strict);
      return reply[1];
    }
  }

  private async send(
    client: RedisClient,
    name: string,
    keys: readonly string[],
    args: readonly ScriptArg[],
    cached: boolean,
  ): Promise<[reply: [Error | null, unknown], replicas: [Error | null, unknown]]> {
    const script = scriptNamed(name);
    // A pipeline goes to one node, the one of the script's keys on a cluster too.
    const pipeline = client.pipeline();
    if (cached) pipeline.evalsha(script.sha, keys.length, ...keys, ...args);
    else pipeline.eval(script.lua, keys.length, ...keys, ...args);
    pipeline.call('WAIT', this.options.replicas, this.options.timeout);
    const replies = (await pipeline.exec()) as PipelineReply;
    if (!replies || replies.length < 2) throw new Error('Redis pipeline was aborted');
    return [replies[0]!, replies[1]!];
  }

  private shortfall(name: string, acknowledged: number, strict: boolean): void {
    const { replicas, timeout } = this.options;
    if (strict) throw new QueueDurabilityError(name, acknowledged, replicas);
    const now = Date.now();
    if (now - this.warnedAt < WARN_EVERY) return;
    this.warnedAt = now;
    this.logger.warn(
      `${name}: ${acknowledged} of ${replicas} replicas acknowledged within ${timeout} ms; a failover now may run such jobs again`,
    );
  }
}

function isRedirection(error: Error | null): boolean {
  return error !== null && (error.message.startsWith('MOVED ') || error.message.startsWith('ASK '));
}
