import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import {
  EmbeddedRedis,
  type EmbeddedRedisOptions,
} from '../../../libs/embedded-redis/src/embedded-redis.js';
import { QueueKeys } from '../../../libs/queue-system/src/redis/queue-keys.js';
import { QueueScripts } from '../../../libs/queue-system/src/redis/queue-scripts.js';
import { doneKeys, RUN_SEPARATOR, START_SEPARATOR } from './fault-jobs.js';
import { isJobEntry } from '../../support/lease-entries.js';

/**
 * A redis-server of one test's own (own data dir, own port), for the tests that kill, stop or
 * restart it. `restart()` starts a new process on the same port and data dir: what a
 * supervisor does after a crash.
 */
export class OwnRedis {
  readonly dataDir = join(tmpdir(), `nqs-fault-redis-${process.pid}-${randomUUID().slice(0, 8)}`);
  server: EmbeddedRedis;
  port = 0;

  constructor(private readonly options: Omit<EmbeddedRedisOptions, 'dataDir'> = {}) {
    this.server = new EmbeddedRedis({ ...options, dataDir: this.dataDir });
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    await this.server.start();
    this.port = this.server.port;
    return this;
  }

  /** A new redis-server on the same port and data dir; it loads the AOF left by the last one. */
  async restart(): Promise<void> {
    this.server = new EmbeddedRedis({ ...this.options, dataDir: this.dataDir, port: this.port });
    await this.server.start();
  }

  async destroy(): Promise<void> {
    await this.server.kill();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/** The keys of the namespace the fault apps use (`default`). */
export function queueKeys(keyPrefix: string): QueueKeys {
  return new QueueKeys(keyPrefix, 'default');
}

/**
 * Active jobs and the lease token each holds (`<worker id>@<fetch time>:<attempt>`), in the
 * job hash or, for a compact job, in the namespace's `leases` hash. Read raw: which worker
 * holds a job is Redis layout that no API shows.
 */
export async function activeLeases(client: Redis, keyPrefix: string): Promise<Map<string, string>> {
  const keys = queueKeys(keyPrefix);
  const ids = (await client.zrange(keys.active, 0, -1)).filter(isJobEntry);
  const pipeline = client.pipeline();
  for (const id of ids) pipeline.hget(keys.job(id), 'lease').hget(keys.leases, id);
  const replies = (await pipeline.exec()) ?? [];
  const leases = new Map<string, string>();
  ids.forEach((id, i) =>
    leases.set(id, String(replies[2 * i]?.[1] ?? replies[2 * i + 1]?.[1] ?? '')),
  );
  return leases;
}

/** How many active jobs hold a lease of `workerId`: the jobs that were running in that process. */
export async function leasesHeldBy(
  client: Redis,
  keyPrefix: string,
  workerId: string,
): Promise<string[]> {
  const leases = await activeLeases(client, keyPrefix);
  return [...leases].filter(([, token]) => token.startsWith(`${workerId}@`)).map(([id]) => id);
}

export interface DoneStats {
  /** Distinct jobs whose processor ran to its end at least once. */
  distinct: number;
  /** Runs to the end in all. */
  runs: number;
  /** Done-list entries written twice by one run (ioredis resending after a reconnect). */
  resent: number;
  /** Jobs whose processor ran to its end more than once. */
  duplicates: number;
  /** How often each job ran, for the jobs that ran more than once. */
  repeated: Map<string, number>;
  /** When each run of those jobs started (ms since the epoch). */
  repeatedStarts: Map<string, number[]>;
  members: Set<string>;
}

/** A run that reached its end: its job id and when its processor started (ms since the epoch). */
export interface RunStart {
  id: string;
  startedAt: number;
}

/** Every run that reached its end, from the done list. */
export async function runStarts(client: Redis, keyPrefix: string): Promise<RunStart[]> {
  // Distinct entries: a MULTI resent by ioredis after a lost connection repeats its nonce.
  const runs = new Set(await client.lrange(doneKeys(keyPrefix).list, 0, -1));
  return [...runs].map((run) => ({
    id: run.slice(0, run.lastIndexOf(RUN_SEPARATOR)),
    startedAt: Number(run.slice(run.lastIndexOf(START_SEPARATOR) + 1)),
  }));
}

export async function doneStats(client: Redis, keyPrefix: string): Promise<DoneStats> {
  const keys = doneKeys(keyPrefix);
  const [members, list] = await Promise.all([
    client.smembers(keys.set),
    client.lrange(keys.list, 0, -1),
  ]);
  // Distinct entries: a MULTI resent by ioredis after a lost connection repeats its nonce.
  const runs = new Set(list);
  const starts = new Map<string, number[]>();
  for (const run of runs) {
    const id = run.slice(0, run.lastIndexOf(RUN_SEPARATOR));
    const startedAt = Number(run.slice(run.lastIndexOf(START_SEPARATOR) + 1));
    starts.set(id, [...(starts.get(id) ?? []), startedAt]);
  }
  const repeatedStarts = new Map([...starts].filter(([, times]) => times.length > 1));
  const repeated = new Map([...repeatedStarts].map(([id, times]) => [id, times.length]));
  return {
    distinct: members.length,
    runs: runs.size,
    resent: list.length - runs.size,
    duplicates: repeated.size,
    repeated,
    repeatedStarts,
    members: new Set(members),
  };
}

/**
 * Reads one field of many jobs as the library stores them (the job hash, or for a compact job
 * the namespace's `specs` and `leases` hashes), in chunks of concurrent reads. For fields no
 * API shows (`stalls`); a job's state is `getJob`'s to say (`jobStates`).
 */
export async function jobFields(
  client: Redis,
  keyPrefix: string,
  ids: readonly string[],
  field: string,
): Promise<(string | null)[]> {
  const scripts = new QueueScripts(queueKeys(keyPrefix));
  const values: (string | null)[] = [];
  for (let start = 0; start < ids.length; start += 1000) {
    const chunk = ids.slice(start, start + 1000);
    const jobs = await Promise.all(chunk.map((id) => scripts.readJob(client, id)));
    for (const job of jobs) values.push(job[field] ?? null);
  }
  return values;
}

/** Tallies values, e.g. job states: `{ completed: 20000 }`. */
export function tally(values: readonly (string | null)[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[String(value)] = (counts[String(value)] ?? 0) + 1;
  return counts;
}

/** Deletes every key under `keyPrefix` (tests on the shared redis-server clean up after themselves). */
export async function deleteKeys(client: Redis, keyPrefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${keyPrefix}*`, 'COUNT', 1000);
    if (keys.length > 0) await client.unlink(...keys);
    cursor = next;
  } while (cursor !== '0');
}

/**
 * The metrics hash, as numbers, read on a plain connection: through an outage its commands
 * wait for Redis to come back, where `QueueManager.getMetrics` would reject at once.
 */
async function metrics(client: Redis, keyPrefix: string): Promise<Record<string, number>> {
  const raw = await client.hgetall(queueKeys(keyPrefix).metrics);
  return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, Number(v)]));
}

/**
 * Resolves with the ms it took (from now) until the `processed` counter rose above what it is
 * now: how long the workers took to complete something again. -1 after `timeoutMs`.
 */
export async function timeUntilProcessing(
  client: Redis,
  keyPrefix: string,
  timeoutMs = 30_000,
): Promise<number> {
  const started = performance.now();
  const baseline = (await metrics(client, keyPrefix)).processed ?? 0;
  while (performance.now() - started < timeoutMs) {
    if (((await metrics(client, keyPrefix)).processed ?? 0) > baseline) {
      return performance.now() - started;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return -1;
}
