import { Redis } from 'ioredis';
import { createQueueApp, redisUrl, type QueueTestApp } from '../../support/queue-test-app.js';
import { faultJobProviders } from './fault-jobs.js';
import { waitFor } from '../../support/queue-test-app.js';
import { deleteKeys, leasesHeldBy, OwnRedis } from './fault-redis.js';
import { ProcessFleet, type WorkerEnv } from './process-fleet.js';

export interface FaultRigOptions {
  keyPrefix: string;
  /** Duration of a `fault.record` job, in [min, max] ms, in the test process and the fleet. */
  jobMs: readonly [number, number];
  /** The fleet's environment besides Redis, prefix and job duration (WORKER_COUNT, LEASE_MS...). */
  fleet: WorkerEnv;
  /** A redis-server of the test's own, destroyed at `close()`; else the suite's shared one. */
  ownRedis?: boolean;
  /** `redis.backupTtl` of the producer and the fleet (ms); 0 stores compact jobs. The default's if unset. */
  backupTtl?: number;
}

/**
 * What most fault tests set up: a raw client, a producer app that does not consume, and a
 * fleet of worker processes, all on one key prefix; `close()` undoes it all, in afterAll.
 */
export class FaultRig {
  raw!: Redis;
  producer!: QueueTestApp;
  fleet!: ProcessFleet;
  private server?: OwnRedis;

  constructor(readonly options: FaultRigOptions) {}

  get keyPrefix(): string {
    return this.options.keyPrefix;
  }

  async start(): Promise<this> {
    const { keyPrefix, jobMs, fleet, ownRedis, backupTtl } = this.options;
    this.server = ownRedis ? await new OwnRedis().start() : undefined;
    const url = this.server?.url ?? redisUrl();
    this.raw = new Redis(url);
    this.producer = await createQueueApp(
      faultJobProviders({ redisUrl: url, keyPrefix, jobMs, freezeMs: 0 }),
      {
        redis: { url, keyPrefix, ...(backupTtl === undefined ? {} : { backupTtl }) },
        worker: { autoStart: false },
      },
    );
    this.fleet = new ProcessFleet({
      REDIS_URL: url,
      KEY_PREFIX: keyPrefix,
      JOB_MS: `${jobMs[0]}-${jobMs[1]}`,
      ...(backupTtl === undefined ? {} : { BACKUP_TTL_MS: backupTtl }),
      ...fleet,
    });
    return this;
  }

  /**
   * Two worker processes; the victim is SIGKILLed once it holds at least `leases` leases
   * (`probe` runs at each look, for what the test watches meanwhile). Resolves with the
   * leases it held, the most runs the kill can duplicate.
   */
  async killOneOfTwo(leases: number, probe?: () => Promise<void>): Promise<number> {
    const victim = this.fleet.spawn();
    const survivor = this.fleet.spawn();
    await Promise.all([victim.awaitReady(), survivor.awaitReady()]);
    const held = () => leasesHeldBy(this.raw, this.keyPrefix, victim.workerId!);
    // The survivor may take most jobs while the victim boots on a loaded machine: wait long.
    await waitFor(
      async () => {
        await probe?.();
        return (await held()).length >= leases;
      },
      'the victim running jobs',
      30_000,
    );
    const count = (await held()).length;
    const { signal } = await victim.kill('SIGKILL');
    if (signal !== 'SIGKILL') throw new Error(`the victim ended by ${signal}, not SIGKILL`);
    return count;
  }

  async close(): Promise<void> {
    await this.fleet?.killAll();
    await this.producer?.close();
    if (this.server) {
      this.raw?.disconnect();
      await this.server.destroy();
      return;
    }
    if (this.raw) await deleteKeys(this.raw, this.keyPrefix);
    this.raw?.disconnect();
  }
}
