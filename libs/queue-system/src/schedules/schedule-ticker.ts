import type { QueueScripts, TickClaim } from '../redis/queue-scripts.js';
import type { RedisConnection } from '../redis/redis-connection.js';
import type { QueueLogger } from '../utils/queue-logger.js';
import { parseStoredSchedule, type StoredSchedule } from './schedule-book.js';
import { ScheduleTiming } from './schedule-timing.js';

/**
 * How long a worker waits at most before it reads the due times again: a schedule another
 * process adds is seen within this time, and a namespace without schedules costs one read
 * per period, none per fetch.
 */
const RECHECK_MS = 30_000;
/** The pause before trying again after a failed tick (Redis unreachable). */
const RETRY_MS = 1_000;
/** The most due ticks one script call claims; more are claimed by the next call at once. */
const CLAIMS_PER_CALL = 100;

/**
 * The worker side of schedules: sleeps until the earliest due time (a timer, no polling),
 * then claims the due ticks in one `tick-schedules` call. Every process does so; the script
 * lets one of them enqueue each tick.
 */
export class ScheduleTicker {
  private timer?: NodeJS.Timeout;
  private ticking?: Promise<void>;
  private stopped = true;
  /** A refresh came while a tick ran: read the due times again right after it. */
  private again = false;
  /** Parsed crons by `<time zone> <cron>`: a tick parses nothing. */
  private readonly timings = new Map<string, ScheduleTiming>();

  constructor(
    private readonly connection: RedisConnection,
    private readonly scripts: QueueScripts,
    private readonly logger: QueueLogger,
  ) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.wakeIn(0);
  }

  /** Reads the due times again now: a schedule of this process changed. */
  refresh(): void {
    if (this.ticking) this.again = true;
    else if (!this.stopped) this.wakeIn(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.ticking;
  }

  private wakeIn(ms: number): void {
    clearTimeout(this.timer);
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.ticking = this.tick().finally(() => (this.ticking = undefined));
    }, ms);
    // A timer that keeps the process alive would outlive an app that forgot to close.
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    let wait = RECHECK_MS;
    this.again = false;
    try {
      const now = Date.now();
      const claims = await this.readDue(now);
      const [, earliest] = await this.connection.run('tickSchedules', () =>
        this.scripts.schedules.tick(this.connection.client, claims, now),
      );
      if (earliest >= 0) wait = Math.min(Math.max(earliest - Date.now(), 0), RECHECK_MS);
    } catch (error) {
      this.logger.warn(`Schedules not ticked: ${(error as Error).message}`);
      wait = RETRY_MS;
    }
    this.wakeIn(this.again ? 0 : wait);
  }

  /** The claims of the ticks due at `now`, each with its next due time computed here. */
  private async readDue(now: number): Promise<TickClaim[]> {
    const { client } = this.connection;
    const { keys } = this.scripts;
    const due = await this.connection.run('tickSchedules', () =>
      client.zrangebyscore(
        keys.scheduleDue,
        '-inf',
        now,
        'WITHSCORES',
        'LIMIT',
        0,
        CLAIMS_PER_CALL,
      ),
    );
    if (due.length === 0) return [];
    const names = due.filter((_, i) => i % 2 === 0);
    const definitions = await this.connection.run('tickSchedules', () =>
      client.hmget(keys.schedules, ...names),
    );
    const claims: TickClaim[] = [];
    names.forEach((name, i) => {
      const text = definitions[i];
      // Removed between the two reads: the script finds no definition either.
      if (!text) return;
      const stored = parseStoredSchedule(name, text);
      claims.push(this.timing(stored).claim(name, Number(due[2 * i + 1]), now, stored.missed));
    });
    return claims;
  }

  private timing(stored: StoredSchedule): ScheduleTiming {
    const key = `${stored.timeZone} ${stored.cron}`;
    let timing = this.timings.get(key);
    if (!timing) {
      timing = new ScheduleTiming(stored.cron, stored.timeZone || undefined);
      this.timings.set(key, timing);
    }
    return timing;
  }
}
