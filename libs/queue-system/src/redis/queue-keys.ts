import type { JobPriority } from '../interfaces/job-options.interface.js';

/**
 * Every key of one namespace shares the `{namespace}` hash tag, so each script touches one
 * cluster slot and the same code runs on a single node and on Redis Cluster.
 */
export class QueueKeys {
  /** `<keyPrefix>{<namespace>}:`; scripts build job and ready-list keys from it. */
  readonly base: string;
  readonly active: string;
  readonly delayed: string;
  readonly failures: string;
  readonly systemErrors: string;
  readonly dedup: string;
  readonly metrics: string;
  readonly wake: string;
  readonly queues: string;

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
  }

  job(id: string): string {
    return `${this.base}job:${id}`;
  }

  ready(priority: JobPriority, queueName: string): string {
    return `${this.base}ready:${priority}:${queueName}`;
  }
}
