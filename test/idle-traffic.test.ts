import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Injectable } from '@nestjs/common';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { EmbeddedRedis } from '../libs/embedded-redis/src/embedded-redis.js';
import { Processor } from '../libs/queue-system/src/index.js';
import { loadScriptDefinitions } from '../libs/queue-system/src/redis/script-loader.js';
import { createQueueApp, type QueueTestApp, waitFor } from './support/queue-test-app.js';

/** The idle traffic docs/guarantees.md states for the default settings, calls a minute. */
const DOCUMENTED_PER_MINUTE = 40;
/** Worker-entry reports a minute among them: one per heartbeat. */
const REPORTS_PER_MINUTE = 6;

@Injectable()
class IdleJobs {
  @Processor('idle.never')
  run(): void {}
}

describe('idle traffic', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'nqs-idle-budget-'));
  let redis: EmbeddedRedis | undefined;
  let app: QueueTestApp | undefined;
  afterAll(async () => {
    await app?.close();
    await redis?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('an idle worker sends no more than twice the documented calls in a heartbeat', async () => {
    redis = await new EmbeddedRedis({ dataDir }).start();
    app = await createQueueApp([IdleJobs], { redis: { url: redis.url } });
    const reportSha = loadScriptDefinitions().find((s) => s.name === 'report-worker')!.sha;
    const monitor = new Redis(redis.url);
    // Calls the app sends (those run inside a script count as their script), from its first
    // worker-entry report to its next: one heartbeat.
    const calls: string[] = [];
    let reports = 0;
    const feed = await monitor.monitor();
    feed.on('monitor', (_time: string, args: string[], source: string) => {
      if (source.startsWith('lua')) return;
      const report = args[0]?.toLowerCase() === 'evalsha' && args[1] === reportSha;
      if (report) reports += 1;
      if (reports >= 1 && (reports < 2 || report)) calls.push(args[0]!.toLowerCase());
    });
    await waitFor(() => reports >= 2, 'two worker-entry reports, one heartbeat apart', 30_000);
    feed.disconnect();
    monitor.disconnect();

    const window = calls.slice(1);
    const budget = Math.ceil((2 * DOCUMENTED_PER_MINUTE) / REPORTS_PER_MINUTE);
    expect(window).toContain('blpop');
    expect(window.length).toBeLessThanOrEqual(budget);
  });
});
