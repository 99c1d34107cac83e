import { Counter, Gauge, type Registry } from 'prom-client';
import type { QueueCounters } from '../interfaces/queue-status.interface.js';
import type { ThreadPool } from '../threads/thread-pool.js';
import type { QueueWorker } from '../worker/queue-worker.js';
import type { NamespaceState, StateReader } from './state-reader.js';

/** What the scrape-time metrics read: the queues' state in Redis and this process's workers. */
interface StateSources {
  reader: StateReader;
  workers: () => QueueWorker[];
  threadPool: ThreadPool;
}

/** Namespace-wide counters kept in Redis that no event of this process tells. */
const REDIS_COUNTERS: readonly [keyof QueueCounters, string, string][] = [
  ['stalled', 'jobs_stalled_total', 'Jobs found stalled (worker died or froze) and put back'],
  ['lease_lost', 'leases_lost_total', 'Attempts abandoned because their lease was taken'],
];

/**
 * The gauges read at scrape time, in prom-client's `collect()`: the depths of the queues (one
 * cached read of Redis per namespace, see `StateReader`), and this process's worker slots and
 * thread pool (no Redis). Each collect starts from empty, so a queue that vanished leaves no
 * stale series.
 */
export function registerStateMetrics(
  registry: Registry,
  prefix: string,
  sources: StateSources,
): string[] {
  const names: string[] = [];
  const registers = [registry];
  const { reader } = sources;
  const fromRedis = (name: string, help: string, labelNames: string[], fill: Fill) => {
    names.push(prefix + name);
    return new Gauge({
      name: prefix + name,
      help,
      labelNames,
      registers,
      async collect() {
        const states = await reader.read();
        this.reset();
        for (const state of states) fill(this, state);
      },
    });
  };
  fromRedis('jobs_waiting', 'Jobs ready to run, per queue and priority', WAITING, (g, s) => {
    for (const { queue, priority, count } of s.depths?.waiting ?? []) {
      g.set({ namespace: s.namespace, queue, priority }, count);
    }
  });
  fromRedis('jobs_delayed', 'Jobs due later (delays and retries)', NS, (g, s) => {
    if (s.depths) g.set({ namespace: s.namespace }, s.depths.delayed);
  });
  fromRedis('jobs_active', 'Jobs running in any process of the namespace', NS, (g, s) => {
    if (s.depths) g.set({ namespace: s.namespace }, s.depths.active);
  });
  fromRedis('dead_letters', 'Jobs in a dead-letter list', ['namespace', 'list'], (g, s) => {
    for (const [list, count] of Object.entries(s.depths?.deadLetters ?? {})) {
      g.set({ namespace: s.namespace, list }, count);
    }
  });
  fromRedis('state_up', '1 when the last read of the state from Redis worked', NS, (g, s) => {
    g.set({ namespace: s.namespace }, s.up ? 1 : 0);
  });
  names.push(...registerRedisCounters(registry, prefix, reader));
  names.push(...registerProcessMetrics(registry, prefix, sources));
  return names;
}

type Fill = (gauge: Gauge, state: NamespaceState) => void;
const NS = ['namespace'];
const WAITING = ['namespace', 'queue', 'priority'];

/** The namespace-wide counters kept in Redis, from the same cached read as the gauges. */
function registerRedisCounters(registry: Registry, prefix: string, reader: StateReader) {
  const names: string[] = [];
  const registers = [registry];
  const fromRedisCounters = (field: keyof QueueCounters, name: string, help: string) => {
    names.push(prefix + name);
    return new Counter({
      name: prefix + name,
      help: `${help} (namespace-wide, kept in Redis)`,
      labelNames: NS,
      registers,
      async collect() {
        const states = await reader.read();
        this.reset();
        for (const s of states) {
          if (s.depths) this.inc({ namespace: s.namespace }, s.depths.counters[field]);
        }
      },
    });
  };
  for (const [field, name, help] of REDIS_COUNTERS) fromRedisCounters(field, name, help);
  return names;
}

/** This process's workers and thread pool, read from memory at scrape time. */
function registerProcessMetrics(registry: Registry, prefix: string, sources: StateSources) {
  const names: string[] = [];
  const gauge = (name: string, help: string, labelNames: string[], fill: (g: Gauge) => void) => {
    names.push(prefix + name);
    return new Gauge({
      name: prefix + name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        fill(this);
      },
    });
  };
  const perWorker = (name: string, help: string, read: (worker: QueueWorker) => number) =>
    gauge(name, help, NS, (g) => {
      for (const worker of sources.workers()) g.set({ namespace: worker.namespace }, read(worker));
    });
  perWorker('worker_slots', 'Jobs this process may run at once (autoscaled)', (w) => w.slots);
  perWorker('worker_running', 'Jobs this process is running', (w) => w.activeCount);
  perWorker('worker_up', '1 while this process consumes the namespace', (w) =>
    w.isRunning() ? 1 : 0,
  );
  const { threadPool: pool } = sources;
  gauge('thread_pool_size', 'Threads the pool may start', [], (g) => g.set(pool.size));
  gauge('thread_pool_threads', 'Threads alive', [], (g) => g.set(pool.threadCount));
  gauge('thread_pool_queued', 'Tasks waiting for a thread', [], (g) => g.set(pool.queued));
  gauge('thread_pool_utilization', 'Share of thread time in use, 0 to 1', [], (g) =>
    g.set(pool.utilization / 100),
  );
  return names;
}
