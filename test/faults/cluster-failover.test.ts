import { TerminusModule } from '@nestjs/terminus';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { QueueHealthIndicator } from '../../libs/queue-system/src/health/index.js';
import { QueueDurabilityError, QueueUnavailableError } from '../../libs/queue-system/src/index.js';
import { createQueueApp, sleep, uniquePrefix, waitFor } from '../support/queue-test-app.js';
import { LocalRedisCluster } from '../support/redis-cluster.js';
import { formatClusterNodes, queueClusterClient } from './support/cluster-client.js';
import { faultJobProviders } from './support/fault-jobs.js';
import { OwnRedis, doneStats, runStarts } from './support/fault-redis.js';
import { jobStates } from './support/job-info.js';
import { PacedProducers, type Acked } from './support/paced-producers.js';
import { ProcessFleet } from './support/process-fleet.js';

const NODE_TIMEOUT_MS = 1000;
const CONNECTION_TIMEOUT_MS = 1000;
const WORKERS = 2;
const PRODUCERS = 4;
/** Below what the fleet processes, so that the queue drains in seconds after the failover. */
const PRODUCE_PER_SECOND = 400;
const PRODUCE_BEFORE_MS = 1500;
const PRODUCE_AFTER_MS = 2000;
/**
 * Replication to a replica is asynchronous: a write the killed master acknowledged in its last
 * moments may not have reached the replica that takes over. On loopback the lag is a few ms;
 * this is the bound the test holds the loss to, with room for a loaded machine.
 */
const REPLICATION_WINDOW_MS = 1000;
/** A reply the master wrote just before it was killed still reaches its client. */
const REPLY_IN_FLIGHT_MS = 200;

/**
 * A failover takes about `cluster-node-timeout` plus an election; the bound leaves room for a
 * loaded machine and stays well under the default `circuitRecoveryTimeout` (30 s).
 */
const RESUME_BOUND_MS = 15_000;

const DURABILITY = { replicas: 1, timeout: 500 };

interface Case {
  mode: 'kill' | 'planned';
  durability?: typeof DURABILITY;
  label: string;
}

const CASES: Case[] = [
  { mode: 'kill', label: 'the master of the namespace SIGKILLed: its replica takes over' },
  {
    mode: 'kill',
    durability: DURABILITY,
    label: `the same with durability ${JSON.stringify(DURABILITY)}: nothing acknowledged is lost`,
  },
  {
    mode: 'planned',
    label: 'CLUSTER FAILOVER on the replica (planned): nothing acknowledged is lost',
  },
];

/** What the health indicator and getQueueStatus said, in order, repeats collapsed. */
function collapse(seen: string[]): string {
  return seen.filter((value, i) => value !== seen[i - 1]).join('>');
}

describe('fault: Redis Cluster failover', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).toReversed()) await cleanup().catch(() => undefined);
  });

  it.each(CASES)(
    '$label; under load, every job ends, none stuck, the workers resume by themselves',
    { timeout: 90_000 },
    async ({ mode, durability }) => {
      const cluster = new LocalRedisCluster({
        masters: 3,
        // With durability, a second replica of the killed master follows the promoted one, so
        // that the new master has a replica to WAIT for.
        replicasPerMaster: durability ? 2 : 1,
        nodeTimeoutMs: NODE_TIMEOUT_MS,
      });
      cleanups.push(() => cluster.stop());
      // The record of runs lives on a server of its own, which no failover touches.
      const ledger = await new OwnRedis().start();
      cleanups.push(() => ledger.destroy());
      await cluster.start();
      const keyPrefix = uniquePrefix(`cluster-${mode}`);
      const raw = new Redis(ledger.url);
      cleanups.push(async () => raw.disconnect());

      const client = queueClusterClient(cluster.startupNodes, CONNECTION_TIMEOUT_MS);
      cleanups.push(async () => client.disconnect());
      const producer = await createQueueApp(
        [
          ...faultJobProviders({ redisUrl: ledger.url, keyPrefix, jobMs: [2, 10], freezeMs: 0 }),
          QueueHealthIndicator,
        ],
        {
          redis: {
            client,
            keyPrefix,
            // circuitRecoveryTimeout left at its default (30 s): the new master closes the circuit.
            connectionTimeout: CONNECTION_TIMEOUT_MS,
            ...(durability ? { durability } : {}),
          },
          worker: { autoStart: false },
        },
        [TerminusModule],
      );
      cleanups.push(() => producer.close());
      const health = producer.app.get(QueueHealthIndicator);
      const fleet = new ProcessFleet({
        REDIS_URL: ledger.url,
        CLUSTER_NODES: formatClusterNodes(cluster.startupNodes),
        KEY_PREFIX: keyPrefix,
        WORKER_COUNT: 8,
        LEASE_MS: 1500,
        HEARTBEAT_MS: 300,
        JOB_MS: '2-10',
        CONNECTION_TIMEOUT_MS,
        CIRCUIT_RECOVERY_MS: 30_000,
        ...(durability
          ? { DURABILITY_REPLICAS: durability.replicas, DURABILITY_TIMEOUT_MS: durability.timeout }
          : {}),
      });
      cleanups.push(() => fleet.killAll());
      const workers = Array.from({ length: WORKERS }, () => fleet.spawn());
      await Promise.all(workers.map((w) => w.awaitReady()));

      // A QueueDurabilityError: the job is on the master, not acknowledged by a replica.
      const production = new PacedProducers(producer.queue, {
        producers: PRODUCERS,
        perSecond: PRODUCE_PER_SECOND,
        clock: Date.now,
        refused: (error) =>
          error instanceof QueueUnavailableError || error instanceof QueueDurabilityError,
      });
      const { acked } = production;

      // What an operator's probes say through the failover, every 200 ms.
      const healthSeen: string[] = [];
      const statusSeen: string[] = [];
      const watching = new AbortController();
      const watch = (async () => {
        while (!watching.signal.aborted) {
          const [check, status] = await Promise.all([
            health.isHealthy('queue'),
            producer.queue.getQueueStatus().then(
              () => 'ok',
              (error: unknown) => (error instanceof Error ? error.name : 'error'),
            ),
          ]);
          healthSeen.push(String(check.queue.status));
          statusSeen.push(status);
          await sleep(200);
        }
      })();

      await sleep(PRODUCE_BEFORE_MS);
      const home = await cluster.masterOf(`{default}`);
      const replicas = await cluster.replicasOf(`{default}`);
      const replica = replicas[0]!;
      const eventAt = Date.now();
      if (mode === 'kill') await cluster.kill(home.port);
      else await cluster.failover(replica.port);
      // From here on, no write can land on the former master any more.
      const eventDoneAt = Date.now();
      const ackedBeforeEvent = acked.filter((a) => a.at <= eventAt).length;
      const newMaster = await cluster.waitForNewMaster(`{default}`, home.port);
      const failedOverMs = Date.now() - eventAt;
      await sleep(PRODUCE_AFTER_MS);
      await production.stop();
      const { rejected } = production;

      // Drained: nothing waiting, delayed or running any more.
      await waitFor(
        async () => {
          const counts = await producer.queue.getJobCounts().catch(() => undefined);
          return counts !== undefined && counts.waiting + counts.delayed + counts.active === 0;
        },
        'the queue to drain after the failover',
        30_000,
      );
      watching.abort();
      await watch;

      const done = await doneStats(raw, keyPrefix);
      const missing = acked.filter((a) => !done.members.has(a.id));
      const states = await jobStates(
        producer.queue,
        missing.map((a) => a.id),
      );
      // Lost: no trace left in Redis. Stuck: still there but never processed (must not happen).
      const lost = missing.filter((_, i) => states[i] === null);
      const stuck = missing.filter((_, i) => states[i] !== null);
      const counters = await producer.queue.getMetrics();
      const counts = await producer.queue.getJobCounts();
      // Resumed: the first run of a job whose enqueue was acknowledged after the event, so by
      // the new master.
      const ackedAt = new Map(acked.map((a) => [a.id, a.at]));
      const resumedAt = Math.min(
        ...(await runStarts(raw, keyPrefix))
          .filter((run) => (ackedAt.get(run.id) ?? 0) > eventDoneAt)
          .map((run) => run.startedAt),
      );
      const resumedMs = resumedAt - eventAt;
      // A job runs twice when it was put back after losing its lease (counted as stalled), or,
      // after a kill, when the fetch that handed it out was not replicated: its worker ran it
      // and the new master still had it waiting. Such a run started just before the kill.
      const startedInLostWindow = [...done.repeatedStarts.values()].filter((times) =>
        times.some(
          (at) => at >= eventAt - REPLICATION_WINDOW_MS && at <= eventAt + REPLY_IN_FLIGHT_MS,
        ),
      ).length;
      const lostWindowMs = lost.length ? eventAt - Math.min(...lost.map((a) => a.at)) : 0;
      console.log(
        `[fault:cluster-failover] case=${mode} durability=${durability ? `${durability.replicas}/${durability.timeout}ms` : 'off'} node_timeout_ms=${NODE_TIMEOUT_MS} acked=${acked.length} acked_before_event=${ackedBeforeEvent} rejected=${rejected}` +
          ` lost=${lost.length} lost_window_ms=${lostWindowMs} stuck=${stuck.length} duplicates=${done.duplicates} stalled=${counters.stalled} started_in_lost_window=${startedInLostWindow}` +
          ` failed_over_ms=${failedOverMs} resumed_after_ms=${resumedMs} health=${collapse(healthSeen)} status=${collapse(statusSeen)}` +
          ` failures=${counts.failures} system_errors=${counts.system_errors} master=${home.port}->${newMaster}`,
      );

      expect(ackedBeforeEvent).toBeGreaterThan(0);
      expect(acked.length).toBeGreaterThan(ackedBeforeEvent);
      // One of the master's replicas took over (with two, either may win the election).
      expect(replicas.map((r) => r.port)).toContain(newMaster);
      // The same worker processes, never restarted, consumed again.
      expect(workers.map((w) => w.alive)).toEqual(workers.map(() => true));
      expect(Number.isFinite(resumedMs), 'a job enqueued after the event to run').toBe(true);
      // Resumed with the new master, not once the circuit's recovery time (30 s) ran out.
      expect(resumedMs).toBeLessThan(RESUME_BOUND_MS);
      expect(healthSeen.at(-1)).toBe('up');
      expect(statusSeen.at(-1)).toBe('ok');
      expect(stuck.map((a) => `${a.id}: ${states[missing.indexOf(a)]}`)).toEqual([]);
      // Planned: the master stops its clients' writes until the replica has every one of them,
      // so nothing may be lost; nor with durability, where an enqueue is acknowledged once a
      // replica has it. Kill without: only what the master acknowledged in its last moments,
      // before it was replicated.
      const mayBeLost = (job: Acked) =>
        mode === 'kill' && !durability && eventAt - job.at <= REPLICATION_WINDOW_MS;
      expect(lost.filter((job) => !mayBeLost(job))).toEqual([]);
      const handedOutAgain = mode === 'kill' ? startedInLostWindow : 0;
      expect(done.duplicates).toBeLessThanOrEqual(counters.stalled + handedOutAgain);
      expect(counts.failures).toBe(0);
      expect(counts.system_errors).toBe(0);
    },
  );
});
