import type { QueueConfig } from '../config/index.js';
import { LeaseLostError } from '../errors.js';
import type { QueueScripts } from '../redis/queue-scripts.js';
import type { RedisConnection } from '../redis/redis-connection.js';
import { errorMessage, type QueueLogger } from '../utils/queue-logger.js';

interface LeasedJob {
  readonly job: { readonly id: string };
  readonly lease: string;
  /** Stops the attempt: its lease went to another worker. */
  abort(reason: Error): void;
}

/** The jobs whose leases this worker extends: those running whose outcome is not recorded. */
export interface LeasedJobs {
  leased(): Iterable<LeasedJob>;
}

/** Rides on each beat after the leases: the worker's entry in the list of live workers. */
export interface HeartbeatReport {
  report(now: number): Promise<unknown>;
}

/** Stalled jobs recovered per beat: bounded so one beat never holds Redis for long. */
const RECOVERY_BATCH = 500;

/**
 * The heartbeat of one worker: every `heartbeatInterval` it extends the leases of all its
 * running jobs in one call (aborting those it lost), and puts back jobs of any worker whose
 * lease expired, so a dead or frozen worker's jobs run again.
 */
export class LeaseKeeper {
  private timer?: NodeJS.Timeout;
  private beating?: Promise<void>;

  constructor(
    private readonly config: QueueConfig,
    private readonly connection: RedisConnection,
    private readonly scripts: QueueScripts,
    private readonly logger: QueueLogger,
    private readonly jobs: LeasedJobs,
    private readonly entry?: HeartbeatReport,
  ) {}

  start(): void {
    this.timer ??= setInterval(() => void this.beat(), this.config.worker.heartbeatInterval);
    // Recover what a previous incarnation of this deployment left behind, without waiting.
    void this.beat();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.beating;
  }

  /** One beat; concurrent calls share the beat in flight. */
  beat(): Promise<void> {
    this.beating ??= this.extendAndRecover()
      .catch((error: unknown) => this.logger.debug(`Heartbeat skipped: ${errorMessage(error)}`))
      .finally(() => (this.beating = undefined));
    return this.beating;
  }

  private async extendAndRecover(): Promise<void> {
    const { client } = this.connection;
    const now = Date.now();
    const running = new Map<string, LeasedJob>();
    const tokens = new Map<string, string>();
    for (const leased of this.jobs.leased()) {
      running.set(leased.job.id, leased);
      tokens.set(leased.job.id, leased.lease);
    }
    if (running.size > 0) {
      const deadline = now + this.config.worker.leaseDuration;
      const lost = await this.connection.run('extendLeases', () =>
        this.scripts.extendLeases(client, tokens, deadline),
      );
      for (const id of lost) running.get(id)?.abort(new LeaseLostError(id));
      if (lost.length > 0) {
        await this.connection.run('metrics', () =>
          client.hincrby(this.scripts.keys.metrics, 'lease_lost', lost.length),
        );
      }
    }
    const [requeued, failed] = await this.connection.run('recoverStalled', () =>
      this.scripts.recoverStalled(client, now, this.config.worker.maxStalls, RECOVERY_BATCH),
    );
    if (requeued + failed > 0) {
      this.logger.warn(
        `Recovered ${requeued + failed} stalled job(s) whose lease expired: ${requeued} back in line, ${failed} to failures after maxStalls`,
      );
    }
    await this.entry?.report(now);
  }
}
