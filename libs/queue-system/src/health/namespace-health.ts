import type { RegisteredNamespace } from '../worker/queue.orchestrator.js';

/** The thresholds past which a namespace is degraded, resolved from the check's options. */
export interface HealthThresholds {
  maxWaitingAge: number;
  maxBacklog: number;
  maxFetchStall: number;
}

export type HealthStatus = 'up' | 'degraded' | 'down';

/** One namespace in the health check's result, under `namespaces.<name>`. */
export interface NamespaceHealth {
  status: HealthStatus;
  /** What is wrong, when the status is not `up`. */
  message?: string;
  workerRunning: boolean;
  activeJobs: number;
  waiting: number;
  /** How long the job waiting longest has waited, ms, and its queue. */
  oldestWaitingMs: number;
  oldestQueue?: string;
  failures: number;
  systemErrors: number;
  /** How long the worker's fetch loop has had no answer from Redis though a slot was free, ms. */
  fetchStalledMs: number;
  /** Queues whose breaker is open or half-open: their processor keeps failing. */
  openBreakers: string[];
}

/** A read that did not answer, turned into a `down` by the caller. */
type BoundedRead = <T>(work: Promise<T>, what: string) => Promise<T>;

/**
 * Reads one namespace and says how it fares: `down` when its worker should run and does not
 * or Redis did not answer its reads; `degraded` past a threshold; `up` otherwise.
 */
export async function checkNamespace(
  { manager, worker, autoStart }: RegisteredNamespace,
  limits: HealthThresholds,
  read: BoundedRead,
): Promise<NamespaceHealth> {
  const workerRunning = worker.isRunning();
  const health: NamespaceHealth = {
    status: 'up',
    workerRunning,
    activeJobs: worker.activeCount,
    waiting: 0,
    oldestWaitingMs: 0,
    failures: 0,
    systemErrors: 0,
    fetchStalledMs: worker.fetchStalledFor(),
    openBreakers: [],
  };
  if (!workerRunning && autoStart) {
    return { ...health, status: 'down', message: 'The queue worker is not running' };
  }
  try {
    const [counts, backlog, gates] = await Promise.all([
      read(manager.getJobCounts(), 'Job counts'),
      read(manager.getBacklog(), 'Backlog'),
      read(manager.getQueueGates(), 'Queue gates'),
    ]);
    health.openBreakers = Object.keys(gates).filter((queue) => gates[queue]!.breaker);
    health.waiting = backlog.waiting;
    health.oldestWaitingMs = backlog.oldestWaitingMs;
    health.oldestQueue = backlog.oldestQueue;
    health.failures = counts.failures;
    health.systemErrors = counts.system_errors;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { ...health, status: 'down', message };
  }
  const problems = degradations(health, limits);
  return problems.length === 0
    ? health
    : { ...health, status: 'degraded', message: problems.join('; ') };
}

function degradations(health: NamespaceHealth, limits: HealthThresholds): string[] {
  const problems: string[] = [];
  if (health.oldestWaitingMs > limits.maxWaitingAge) {
    problems.push(
      `a job of queue "${health.oldestQueue ?? '?'}" has waited ${health.oldestWaitingMs} ms (maxWaitingAge ${limits.maxWaitingAge} ms)`,
    );
  }
  if (health.waiting > limits.maxBacklog) {
    problems.push(`${health.waiting} jobs are waiting (maxBacklog ${limits.maxBacklog})`);
  }
  for (const queue of health.openBreakers) {
    problems.push(`the breaker of queue "${queue}" is open: its processor keeps failing`);
  }
  if (health.fetchStalledMs > limits.maxFetchStall) {
    problems.push(
      `the fetch loop has had no answer from Redis for ${health.fetchStalledMs} ms though a slot is free (maxFetchStall ${limits.maxFetchStall} ms)`,
    );
  }
  return problems;
}

const RANK: Record<HealthStatus, number> = { up: 0, degraded: 1, down: 2 };

/** The worse of two statuses. */
export function worse(a: HealthStatus, b: HealthStatus): HealthStatus {
  return RANK[b] > RANK[a] ? b : a;
}

/** What the indicator answers: terminus's status, and whether its data says `degraded: true`. */
interface HealthReport {
  status: HealthStatus;
  degradedFlag: boolean;
}

/**
 * Turns the check's status into the indicator's answer. Terminus 12 has `degraded` (HTTP 200,
 * overall `degraded`); terminus 11 knows only `up` and `down`, so there a degraded check is
 * `up` with `degraded: true` in its data, which nothing reading only the status sees: a
 * readiness probe that must shed traffic sets `degradedIsDown` and gets `down` on both.
 */
export function healthReport(
  status: HealthStatus,
  {
    degradedIsDown = false,
    terminusHasDegraded,
  }: { degradedIsDown?: boolean; terminusHasDegraded: boolean },
): HealthReport {
  if (status !== 'degraded') return { status, degradedFlag: false };
  if (degradedIsDown) return { status: 'down', degradedFlag: false };
  return terminusHasDegraded
    ? { status: 'degraded', degradedFlag: false }
    : { status: 'up', degradedFlag: true };
}
