import type { LoggerService } from '@nestjs/common';
import { QueueConfig } from '../config/index.js';
import { maskUrlPassword } from '../config/queue-redis.config.js';
import { defineJob } from '../contracts/job-contract.js';
import { QueueManager } from '../manager/queue-manager.js';
import { shardNamespace } from '../manager/shard-routing.js';
import { shardedManager } from '../sharded-namespace.js';
import { LayoutCheck } from '../redis/layout-check.js';
import { QueueKeys } from '../redis/queue-keys.js';
import { QueueScripts } from '../redis/queue-scripts.js';
import { RedisConnection } from '../redis/redis-connection.js';
import { CallableRegistry } from '../registry/callable-registry.js';
import { SerializerRegistry } from '../serialization/serializer-registry.js';
import { CliError, EXIT } from './cli-errors.js';

/** The connection options every command takes. */
export interface ConnectionOptions {
  redis?: string;
  namespace?: string;
  prefix?: string;
  timeout?: string;
  shards?: string;
}

/** The library's own warnings ("connection lost") would repeat what the CLI reports once. */
const SILENT: LoggerService = { log() {}, error() {}, warn() {} };

/**
 * A `QueueManager` on one namespace, built without a Nest application: the CLI needs no
 * module graph, no worker and no discovery, so it connects and exits in the time of a few
 * Redis calls. It holds a `CallableRegistry` of its own, in which `enqueue` declares the
 * processor it is given, the way `forRoot({ jobs })` declares a producer-only contract.
 */
export class QueueSession {
  readonly manager: QueueManager;
  readonly registry = new CallableRegistry();
  /** The URL with its password masked: what messages may show. */
  readonly shownUrl: string;
  private readonly connection: RedisConnection;

  constructor(options: ConnectionOptions) {
    const url = options.redis ?? process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
    this.shownUrl = maskUrlPassword(url);
    checkUrl(url, this.shownUrl);
    const config = new QueueConfig({
      redis: {
        url,
        namespace: options.namespace ?? 'default',
        keyPrefix: options.prefix ?? 'queue:',
        connectionTimeout: timeoutOf(options.timeout),
        maxConnectionRetries: 1,
      },
      logging: { logger: SILENT, level: 'fatal' },
    });
    this.connection = new RedisConnection(config);
    const shards = Array.from({ length: shardsOf(options.shards) }, (_, shard) => {
      const keys = new QueueKeys(
        config.redis.keyPrefix,
        shardNamespace(config.redis.namespace, shard),
      );
      return new QueueScripts(keys, new LayoutCheck(keys));
    });
    const serializers = new SerializerRegistry();
    const args = [config, this.connection, shards[0]!, this.registry, serializers] as const;
    this.manager =
      shards.length === 1 ? new QueueManager(...args) : shardedManager([...args], shards);
  }

  /** Lets `manager.enqueue` accept a processor this process does not run. */
  declareProcessor(name: string): void {
    this.registry.declare(defineJob(name));
  }

  close(): Promise<void> {
    return this.connection.close();
  }
}

function checkUrl(url: string, shown: string): void {
  let protocol = '';
  try {
    protocol = new URL(url).protocol;
  } catch {
    // Reported below, without the URL's text beyond its masked form.
  }
  if (protocol !== 'redis:' && protocol !== 'rediss:') {
    throw new CliError(`--redis must be a redis:// or rediss:// URL, got ${shown}`, EXIT.usage);
  }
}

/** `--shards`: the app's `redis.shards`, so that every read adds its shards up. */
function shardsOf(value: string | undefined): number {
  const shards = Number(value ?? 1);
  if (!Number.isInteger(shards) || shards < 1) {
    throw new CliError('--shards must be a positive integer', EXIT.usage);
  }
  return shards;
}

function timeoutOf(value: string | undefined): number {
  if (value === undefined) return 3000;
  const ms = Number(value);
  if (!Number.isInteger(ms) || ms <= 0) {
    throw new CliError('--timeout must be a positive number of milliseconds', EXIT.usage);
  }
  return ms;
}
