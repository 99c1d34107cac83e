/**
 * The worker child process of the fault suite: a Nest application context with
 * `QueueModule.forRoot` configured from environment variables and the fault processors.
 * `ProcessFleet` runs it compiled to plain JavaScript (see `build-worker.ts`); it also runs as
 * is with `node --import @swc-node/register/esm-register test/faults/support/worker-process.ts`.
 *
 * stdout carries only protocol lines, `@fault ready <worker id>`, so the parent can attribute
 * leases to this process; the logs go to stderr. The process exits when its stdin closes.
 */
import 'reflect-metadata';
import { Module, type LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { QueueEvents, QueueModule, QueueWorker } from '../../../libs/queue-system/src/index.js';
import { parseClusterNodes, queueClusterClient } from './cluster-client.js';
import { faultJobProviders, type FaultJobsOptions } from './fault-jobs.js';
import { READY } from './worker-protocol.js';

function numberFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new Error(`${name} must be a number, got "${raw}"`);
  return value;
}

function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
}

/** Every log line to stderr, tagged with the pid, so stdout stays a clean protocol channel. */
class StderrLogger implements LoggerService {
  private write(level: string, message: unknown, context?: unknown) {
    const where = typeof context === 'string' ? ` [${context}]` : '';
    process.stderr.write(`${process.pid} ${level}${where} ${String(message)}\n`);
  }
  log(message: unknown, context?: unknown) {
    this.write('LOG', message, context);
  }
  error(message: unknown, ...rest: unknown[]) {
    this.write('ERROR', message, rest.at(-1));
  }
  warn(message: unknown, context?: unknown) {
    this.write('WARN', message, context);
  }
}

/**
 * The queue's connection: REDIS_URL, or through Sentinel when SENTINEL_PORTS (comma-separated)
 * and SENTINEL_NAME are set, or on the Redis Cluster of CLUSTER_NODES (`host:port,...`);
 * REDIS_URL then holds only the done records. DURABILITY_REPLICAS and DURABILITY_TIMEOUT_MS
 * set `redis.durability`.
 */
function connectionFromEnv(redisUrl: string, connectionTimeout: number) {
  const ports = process.env.SENTINEL_PORTS;
  const clusterNodes = process.env.CLUSTER_NODES;
  const replicas = numberFromEnv('DURABILITY_REPLICAS', 0);
  return {
    ...(ports
      ? {
          sentinel: {
            name: requiredEnv('SENTINEL_NAME'),
            sentinels: ports.split(',').map((port) => ({ host: '127.0.0.1', port: Number(port) })),
          },
        }
      : clusterNodes
        ? { client: queueClusterClient(parseClusterNodes(clusterNodes), connectionTimeout) }
        : { url: redisUrl }),
    ...(replicas > 0
      ? { durability: { replicas, timeout: numberFromEnv('DURABILITY_TIMEOUT_MS', 500) } }
      : {}),
  };
}

async function main(): Promise<void> {
  const redisUrl = requiredEnv('REDIS_URL');
  const keyPrefix = requiredEnv('KEY_PREFIX');
  const leaseDuration = numberFromEnv('LEASE_MS', 1500);
  const connectionTimeout = numberFromEnv('CONNECTION_TIMEOUT_MS', 1000);
  const [minMs, maxMs] = (process.env.JOB_MS ?? '5-15').split('-').map(Number);
  const jobs: FaultJobsOptions = {
    redisUrl,
    keyPrefix,
    jobMs: [minMs ?? 5, maxMs ?? minMs ?? 15],
    freezeMs: numberFromEnv('FREEZE_MS', 0),
  };

  @Module({
    imports: [
      QueueModule.forRoot({
        redis: {
          ...connectionFromEnv(redisUrl, connectionTimeout),
          keyPrefix,
          connectionTimeout,
          circuitRecoveryTimeout: numberFromEnv('CIRCUIT_RECOVERY_MS', 1000),
          // 0: a completed job is deleted at once instead of kept.
          backupTtl: numberFromEnv('BACKUP_TTL_MS', 7 * 86_400_000),
        },
        worker: {
          workerCount: numberFromEnv('WORKER_COUNT', 8),
          leaseDuration,
          heartbeatInterval: numberFromEnv('HEARTBEAT_MS', 300),
          maxStalls: numberFromEnv('MAX_STALLS', 3),
          graceShutdownPeriod: numberFromEnv('GRACE_MS', 1000),
          // A job in this suite never legitimately runs for long; a stuck one must not hide.
          workTimeout: numberFromEnv('WORK_TIMEOUT_MS', 30_000),
        },
        logging: { level: 'log' },
        events: { listenerTtl: numberFromEnv('EVENTS_TTL_MS', 10_000) },
        // One schedule of fault.record jobs when set (the schedule fault test).
        schedules: process.env.SCHEDULE_CRON
          ? [{ name: 'fault.tick', cron: process.env.SCHEDULE_CRON, processor: 'fault.record' }]
          : [],
      }),
    ],
    providers: faultJobProviders(jobs),
  })
  class WorkerProcessModule {}

  const app = await NestFactory.createApplicationContext(WorkerProcessModule, {
    logger: new StderrLogger(),
  });
  // SIGTERM drains the worker (graceShutdownPeriod), closes the connections and exits 0.
  app.enableShutdownHooks([], { useProcessExit: true });
  await app.init();
  // LISTEN_EVENTS=1: this process also listens to the namespace's event stream, registered
  // before it reports ready.
  if (process.env.LISTEN_EVENTS === '1') {
    const events = app.get(QueueEvents);
    events.fromRedis().subscribe(() => undefined);
    await events.streamReady('default');
  }
  process.stdout.write(`${READY}${app.get(QueueWorker).id}\n`);
}

// stdin is a pipe from the test process: when it closes, the test process is gone (crashed,
// killed by CI), and no worker may outlive it.
process.stdin.on('end', () => process.exit(3));
process.stdin.resume();

main().catch((error: unknown) => {
  process.stderr.write(`worker process failed to start: ${String(error)}\n`);
  process.exit(2);
});
