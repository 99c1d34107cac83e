import { hostname } from 'node:os';
import type { QueueConfig } from '../config/index.js';
import type { QueueScripts } from '../redis/queue-scripts.js';
import type { RedisConnection } from '../redis/redis-connection.js';
import { LIBRARY_VERSION } from '../version.js';
import type { HeartbeatReport } from './lease-keeper.js';

/** The window throughput is measured over, ms. */
const THROUGHPUT_WINDOW = 60_000;
/** Beats an entry outlives its last write: a late beat or two never drops a live worker. */
const BEATS_TO_EXPIRY = 3;

interface Sample {
  readonly at: number;
  readonly ended: number;
}

/** What the entry reads of its worker at each beat: the slots and the jobs running now. */
export interface WorkerGauges {
  readonly slots: number;
  readonly activeCount: number;
}

/**
 * This process's statistics for one namespace, and its entry in the list of live workers:
 * counted in memory as attempts end, written to Redis only by the heartbeat, so that no job
 * pays a Redis write for them. The entry expires a few beats after the last one, so a process
 * that dies leaves no trace to clean up.
 */
export class WorkerEntry implements HeartbeatReport {
  /** Attempts that succeeded here since the worker started. */
  processed = 0;
  /** Attempts that failed here (the processor threw or timed out), retried or not. */
  failed = 0;
  private startedAt = 0;
  private samples: Sample[] = [];
  private readonly host = hostname();

  constructor(
    private readonly id: string,
    private readonly config: QueueConfig,
    private readonly connection: RedisConnection,
    private readonly scripts: QueueScripts,
    private readonly worker: WorkerGauges,
  ) {}

  start(now = Date.now()): void {
    this.startedAt = now;
    this.processed = this.failed = 0;
    this.samples = [{ at: now, ended: 0 }];
  }

  /** Attempts ended per second over the last minute (less, just after start). */
  throughput(now = Date.now()): number {
    const ended = this.processed + this.failed;
    const samples = this.samples;
    samples.push({ at: now, ended });
    while (samples.length > 2 && samples[1]!.at <= now - THROUGHPUT_WINDOW) samples.shift();
    const base = samples[0]!;
    const seconds = (now - base.at) / 1000;
    return seconds > 0 ? Math.round(((ended - base.ended) / seconds) * 100) / 100 : 0;
  }

  /** Writes the entry for three beats; called by the heartbeat. */
  report(now = Date.now()): Promise<number> {
    const { worker } = this.config;
    const { slots, activeCount: running } = this.worker;
    const fields = {
      host: this.host,
      pid: process.pid,
      queues: JSON.stringify(worker.queues ?? 'all'),
      slots,
      minSlots: worker.minConcurrency ?? slots,
      maxSlots: worker.maxConcurrency ?? slots,
      running,
      processed: this.processed,
      failed: this.failed,
      throughput: this.throughput(now),
      startedAt: this.startedAt,
      reportedAt: now,
      version: LIBRARY_VERSION,
    };
    const ttl = Math.ceil(worker.heartbeatInterval * BEATS_TO_EXPIRY);
    const { client } = this.connection;
    return this.connection.run('reportWorker', () =>
      this.scripts.reportWorker(client, this.id, fields, now, ttl),
    );
  }

  /** Removes the entry at once: a clean stop. */
  leave(): Promise<number> {
    const { client } = this.connection;
    return this.connection.run('reportWorker', () =>
      this.scripts.reportWorker(client, this.id, {}, Date.now(), 0),
    );
  }
}
