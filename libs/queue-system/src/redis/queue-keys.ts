import type { JobPriority } from '../interfaces/job-options.interface.js';

/**
 * Every key of one namespace shares the `{namespace}` hash tag, so each script touches one
 * cluster slot and the same code runs on a single node and on Redis Cluster.
 */
export class QueueKeys {
  /** `<keyPrefix>{<namespace>}:`; scripts build job hashes and ready lists from it. */
  readonly base: string;
  readonly active: string;
  readonly delayed: string;
  readonly failures: string;
  readonly systemErrors: string;
  readonly dedup: string;
  readonly metrics: string;
  readonly wake: string;
  readonly queues: string;
  /** Specs of waiting and running compact jobs, by id. */
  readonly specs: string;
  /** Lease tokens of running compact jobs, by id. */
  readonly leases: string;
  /** The layout version the namespace's data is stored in (see `layout-check.ts`). */
  readonly layout: string;
  /** The live workers' ids, scored by when their entry expires. */
  readonly workers: string;
  /** The queue gates: paused queues, open breakers, rate limits (see `queue-gates.lua`). */
  readonly gates: string;
  /** Consecutive failures per queue whose processor has a breaker. */
  readonly breakers: string;
  /**
   * Tenants' weights, concurrency caps and rate limits; running jobs per tenant; the tokens
   * of each rate-limited tenant's bucket (see `tenant-keys.lua`, `tenant-bucket.lua`).
   */
  readonly tenantPolicy: string;
  readonly tenantActive: string;
  readonly tenantTokens: string;
  /** Schedule definitions by name, and their next due times (see `schedules/`). */
  readonly schedules: string;
  readonly scheduleDue: string;

  constructor(
    readonly keyPrefix: string,
    readonly namespace: string,
  ) {
    this.base = `${keyPrefix}{${namespace}}:`;
    this.active = `${this.base}active`;
    this.delayed = `${this.base}delayed`;
    this.failures = `${this.base}failures`;
    this.systemErrors = `${this.base}system_errors`;
    this.dedup = `${this.base}dedup`;
    this.metrics = `${this.base}metrics`;
    this.wake = `${this.base}wake`;
    this.queues = `${this.base}queues`;
    this.specs = `${this.base}specs`;
    this.leases = `${this.base}leases`;
    this.layout = `${this.base}layout`;
    this.workers = `${this.base}workers`;
    this.gates = `${this.base}gates`;
    this.breakers = `${this.base}breakers`;
    this.tenantPolicy = `${this.base}tenant_policy`;
    this.tenantActive = `${this.base}tenant_active`;
    this.tenantTokens = `${this.base}tenant_tokens`;
    this.schedules = `${this.base}schedules`;
    this.scheduleDue = `${this.base}schedule_due`;
  }

  job(id: string): string {
    return `${this.base}job:${id}`;
  }

  /** A live worker's entry: its statistics, expiring unless its heartbeat renews them. */
  worker(id: string): string {
    return `${this.base}worker:${id}`;
  }

  ready(priority: JobPriority, queueName: string): string {
    return `${this.base}ready:${priority}:${queueName}`;
  }

  /** The tenants with jobs waiting for a queue and priority, in turn (see `tenant-keys.lua`). */
  rotation(priority: JobPriority, queueName: string): string {
    return `${this.base}rotation:${priority}:${queueName}`;
  }

  tenantReady(priority: JobPriority, queueName: string, tenant: string): string {
    return `${this.ready(priority, queueName)}:t:${tenant}`;
  }
}
