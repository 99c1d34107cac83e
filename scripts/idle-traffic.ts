// Counts the Redis commands one idle worker sends, to back the README's claim that idle
// workers block instead of polling. Run:
//   node --import @swc-node/register/esm-register scripts/idle-traffic.ts [--seconds 60]
// It starts a redis-server of its own on a free loopback port, boots an app whose worker has a
// processor but no job, lets it settle, then reads INFO commandstats before and after the
// window. MONITOR on a second connection names the script behind each EVALSHA.
import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Redis } from 'ioredis';
import { Processor, QueueModule } from 'nest-queue-system';
import { EmbeddedRedis } from '../libs/embedded-redis/src/embedded-redis.js';
import { loadScriptDefinitions } from '../libs/queue-system/src/redis/script-loader.js';

/** Long enough for the boot's first fetch and heartbeat to be over before counting. */
const SETTLE_MS = 3_000;

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '60' } } });
const windowMs = Number(values.seconds) * 1000;

@Injectable()
class IdleJobs {
  @Processor('idle.never')
  run(): void {}
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'nqs-idle-traffic-'));
  const redis = await new EmbeddedRedis({ dataDir }).start();
  const stats = new Redis(redis.url);
  const monitor = new Redis(redis.url);
  try {
    @Module({
      imports: [QueueModule.forRoot({ redis: { url: redis.url } })],
      providers: [IdleJobs],
    })
    class IdleAppModule {}

    const app = await NestFactory.createApplicationContext(IdleAppModule, { logger: ['error'] });
    await app.init();
    await sleep(SETTLE_MS);

    const scriptBySha = new Map(loadScriptDefinitions().map((s) => [s.sha, s.name]));
    const seen = new Map<string, number>();
    const feed = await monitor.monitor();
    feed.on('monitor', (_time: string, args: string[], source: string) => {
      if (source.startsWith('lua')) return; // commands run inside a script: the script counts
      const [command = '', sha = ''] = args;
      const name = command.toLowerCase();
      if (name === 'info') return;
      const label = name === 'evalsha' ? `evalsha ${scriptBySha.get(sha) ?? sha}` : name;
      seen.set(label, (seen.get(label) ?? 0) + 1);
    });

    const before = await commandCounts(stats);
    await sleep(windowMs);
    const after = await commandCounts(stats);
    feed.disconnect();
    await app.close();

    const executed = new Map<string, number>();
    for (const [command, calls] of after) {
      if (command === 'info' || command === 'monitor') continue;
      const delta = calls - (before.get(command) ?? 0);
      if (delta > 0) executed.set(command, delta);
    }
    console.log(`redis-server ${redis.url}, one idle worker, ${windowMs / 1000} s window`);
    report('calls sent by the app (MONITOR)', seen);
    report('commands Redis ran, those inside scripts included (INFO commandstats)', executed);
  } finally {
    stats.disconnect();
    monitor.disconnect();
    await redis.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function report(title: string, counts: Map<string, number>): void {
  const total = [...counts.values()].reduce((sum, calls) => sum + calls, 0);
  console.log(`${title}: ${total}, ${((total * 60_000) / windowMs).toFixed(1)} a minute`);
  for (const [label, calls] of [...counts].sort((a, b) => b[1] - a[1])) {
    console.log(`  ${label.padEnd(28)} ${calls}`);
  }
}

/** `cmdstat_<name>:calls=<n>,...` lines of INFO commandstats, as name -> calls. */
async function commandCounts(client: Redis): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const match of (await client.info('commandstats')).matchAll(
    /^cmdstat_(\S+):calls=(\d+)/gm,
  )) {
    counts.set(match[1]!, Number(match[2]));
  }
  return counts;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

await main();
