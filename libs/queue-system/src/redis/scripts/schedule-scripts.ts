import type { RedisClient } from '../redis-connection.js';
import type { ScriptArg } from '../script-loader.js';
import type { ScriptRunner } from './script-runner.js';

/** One due tick a process claims: see `lua/tick-schedules-4.lua`. */
export interface TickClaim {
  name: string;
  /** The due time the process read; the claim holds only while it is still the stored one. */
  dueAt: number;
  nextDueAt: number;
  /** The tick whose job to enqueue; undefined when the missed ticks are skipped. */
  tick?: number;
}

/** Calls the scripts of schedules: upsert, remove, tick. */
export class ScheduleScripts {
  constructor(private readonly runner: ScriptRunner) {}

  /** True when the definition was stored, false when the same one was there. */
  async upsert(client: RedisClient, name: string, definition: string, nextDueAt: number) {
    const k = this.runner.keys;
    const keys = [k.schedules, k.scheduleDue];
    return (
      (await this.runner.run(client, 'upsert-schedule', keys, [name, definition, nextDueAt])) === 1
    );
  }

  async remove(client: RedisClient, name: string): Promise<boolean> {
    const k = this.runner.keys;
    return (
      (await this.runner.run(client, 'remove-schedule', [k.schedules, k.scheduleDue], [name])) === 1
    );
  }

  /** Claims ticks; returns the jobs enqueued and the earliest due time left (-1: none). */
  async tick(client: RedisClient, claims: readonly TickClaim[], now: number) {
    const k = this.runner.keys;
    const args: ScriptArg[] = [k.base, now];
    for (const c of claims) args.push(c.name, c.dueAt, c.nextDueAt, c.tick ?? '');
    const keys = [k.schedules, k.scheduleDue, k.metrics, k.wake];
    return (await this.runner.run(client, 'tick-schedules', keys, args)) as [number, number];
  }
}
