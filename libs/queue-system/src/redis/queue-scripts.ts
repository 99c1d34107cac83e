import type { JobPriority } from '../interfaces/job-options.interface.js';
import type { LayoutCheck } from './layout-check.js';
import type { QueueKeys } from './queue-keys.js';
import type { RedisClient } from './redis-connection.js';
import type { ReplicationWait } from './replication-wait.js';
import { AdminScripts } from './scripts/admin-scripts.js';
import { CompleteScripts, type Completion } from './scripts/complete-scripts.js';
import { EnqueueScripts, type NewJob } from './scripts/enqueue-scripts.js';
import { FetchScripts, type FetchReply, type FetchRequest } from './scripts/fetch-scripts.js';
import { GateScripts } from './scripts/gate-scripts.js';
import { LeaseScripts } from './scripts/lease-scripts.js';
import { RetryScripts, type DeadLetterTarget } from './scripts/retry-scripts.js';
import { ScheduleScripts } from './scripts/schedule-scripts.js';
import { ScriptRunner } from './scripts/script-runner.js';
import { WorkerScripts } from './scripts/worker-scripts.js';
import { TenantScripts } from './scripts/tenant-scripts.js';

export { LEASE_NOT_HELD, type Completion } from './scripts/complete-scripts.js';
export type { DedupWindow, EnqueueReply, NewJob, NotCreated } from './scripts/enqueue-scripts.js';
export type { FetchReply, FetchRequest } from './scripts/fetch-scripts.js';
export type { DeadLetterTarget } from './scripts/retry-scripts.js';
export type { TickClaim } from './scripts/schedule-scripts.js';

/**
 * The Lua transitions of one namespace, each called with keys built from one `QueueKeys`;
 * nothing else calls them. The callers live by domain in `scripts/` (enqueue, fetch, complete,
 * retry, lease, admin); this is the one handle the worker and the manager hold. With a
 * `LayoutCheck`, no script runs before the namespace's layout has passed it.
 */
export class QueueScripts {
  private readonly enqueuing: EnqueueScripts;
  private readonly fetching: FetchScripts;
  private readonly completing: CompleteScripts;
  private readonly retrying: RetryScripts;
  private readonly leasing: LeaseScripts;
  private readonly admin: AdminScripts;
  private readonly workers: WorkerScripts;
  /** Pause, rate limits, breakers: the queue gates fetch checks. */
  readonly gates: GateScripts;
  /** Tenants' policies and counts. */
  readonly tenants: TenantScripts;
  /** Upsert, remove and tick of schedules. */
  readonly schedules: ScheduleScripts;

  constructor(
    readonly keys: QueueKeys,
    layout?: LayoutCheck,
    /** `redis.durability`: the writes that are acknowledged wait for replicas. */
    replication?: ReplicationWait,
  ) {
    const runner = new ScriptRunner(keys, layout, replication);
    this.enqueuing = new EnqueueScripts(runner);
    this.fetching = new FetchScripts(runner);
    this.completing = new CompleteScripts(runner);
    this.retrying = new RetryScripts(runner);
    this.leasing = new LeaseScripts(runner);
    this.admin = new AdminScripts(runner);
    this.workers = new WorkerScripts(runner);
    this.gates = new GateScripts(runner);
    this.tenants = new TenantScripts(runner);
    this.schedules = new ScheduleScripts(runner);
  }

  /** See `EnqueueScripts.enqueue`: per job, [the id returned, true when created or why not]. */
  enqueue(client: RedisClient, jobs: readonly NewJob[], now: number, compact: boolean) {
    return this.enqueuing.enqueue(client, jobs, now, compact);
  }

  /** Acks `request.completions` and leases the next jobs in one call. */
  fetch(client: RedisClient, request: FetchRequest): Promise<FetchReply> {
    return this.fetching.fetch(client, request);
  }

  /** Acks many jobs in one call; one reply per job: 1, or LEASE_NOT_HELD. */
  completeMany(client: RedisClient, jobs: readonly Completion[], now: number, ttl: number) {
    return this.completing.completeMany(client, jobs, now, ttl);
  }

  retry(
    client: RedisClient,
    id: string,
    token: string,
    error: string,
    dueAt: number,
    timedOut: boolean,
  ) {
    return this.retrying.retry(client, id, token, error, dueAt, timedOut);
  }

  /** Defers a job without spending an attempt (the thread pool was full). */
  defer(client: RedisClient, id: string, token: string, dueAt: number) {
    return this.retrying.defer(client, id, token, dueAt);
  }

  deadLetter(
    client: RedisClient,
    target: DeadLetterTarget,
    id: string,
    token: string,
    error: string,
    now: number,
    timedOut: boolean,
  ) {
    return this.retrying.deadLetter(client, target, id, token, error, now, timedOut);
  }

  /** Requeues a job at the front of its ready list, no attempt spent (shutdown). */
  requeue(client: RedisClient, id: string, token: string, priority: JobPriority, queue: string) {
    return this.retrying.requeue(client, id, token, priority, queue);
  }

  /** Extends the leases of `jobs` (id -> token) to `deadline`; returns the ids whose lease is lost. */
  extendLeases(client: RedisClient, jobs: ReadonlyMap<string, string>, deadline: number) {
    return this.leasing.extendLeases(client, jobs, deadline);
  }

  /** Puts back up to `limit` jobs whose lease expired before `now`: [requeued, failed]. */
  recoverStalled(client: RedisClient, now: number, maxStalls: number, limit: number) {
    return this.leasing.recoverStalled(client, now, maxStalls, limit);
  }

  /** Stores a running job's progress (JSON) if `token` holds its lease: 1, or -1 when not. */
  progress(client: RedisClient, id: string, token: string, progress: string) {
    return this.leasing.progress(client, id, token, progress);
  }

  /** Writes this worker's entry in `workers` for `ttl` ms; `ttl` 0 removes it. */
  reportWorker(
    client: RedisClient,
    id: string,
    fields: Readonly<Record<string, string | number>>,
    now: number,
    ttl: number,
  ) {
    return this.workers.reportWorker(client, id, fields, now, ttl);
  }

  /** A job's fields as HGETALL gives them, compact job or not; empty when there is none. */
  readJob(client: RedisClient, id: string): Promise<Record<string, string>> {
    return this.admin.readJob(client, id);
  }

  status(client: RedisClient) {
    return this.admin.status(client);
  }

  backlog(client: RedisClient, now: number) {
    return this.admin.backlog(client, now);
  }

  purge(client: RedisClient, priority: JobPriority, queueName: string) {
    return this.admin.purge(client, priority, queueName);
  }

  retryDeadLetters(
    client: RedisClient,
    from: DeadLetterTarget,
    limit: number,
    ids: readonly string[],
  ) {
    return this.admin.retryDeadLetters(client, from, limit, ids);
  }
}
