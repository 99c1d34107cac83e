import { Injectable } from '@nestjs/common';
import { afterEach, describe, expect, it } from 'vitest';
import { Processor, QueueConfigError } from '../libs/queue-system/src/index.js';
import {
  createQueueApp,
  uniquePrefix,
  waitFor,
  type QueueTestApp,
} from './support/queue-test-app.js';

@Injectable()
class MeteredJobs {
  readonly limited: number[] = [];
  unlimited = 0;

  @Processor('limited')
  limitedJob() {
    this.limited.push(Date.now());
  }

  @Processor('unlimited')
  unlimitedJob() {
    this.unlimited++;
  }
}

/** A limit of one job a minute, a bucket of three: no token comes back while the test runs. */
@Injectable()
class DeclaredJobs {
  calls = 0;

  @Processor('declared', { rateLimit: { max: 1, duration: 60_000, burst: 3 } })
  run() {
    this.calls++;
  }
}

/** The same processor after a deploy that changed its declared limit. */
@Injectable()
class RedeclaredJobs {
  @Processor('declared', { rateLimit: { max: 2, duration: 60_000 } })
  run() {}
}

@Injectable()
class ZeroRateJobs {
  @Processor('zero', { rateLimit: { max: 0, duration: 1000 } })
  run() {}
}

/** Options of the apps that serve one namespace side by side with another's. */
const sideBySide = (keyPrefix: string) => ({ redis: { keyPrefix }, worker: { workerCount: 20 } });

describe('rate limits', () => {
  const apps: QueueTestApp[] = [];
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
  });

  it('refuses a rate of zero, naming the field', async () => {
    apps.push(await createQueueApp([MeteredJobs], { worker: { autoStart: false } }));
    const refused = apps[0]!.queue.setRateLimit('limited', { max: 0, duration: 1000 });
    await expect(refused).rejects.toBeInstanceOf(QueueConfigError);
    await expect(refused).rejects.toMatchObject({ field: 'rateLimit.max' });
  });

  it('applies a declared limit at boot; a boot with the same one leaves its bucket and run-time overrides alone', async () => {
    const keyPrefix = uniquePrefix('declared');
    const boot = async (
      providers: (typeof DeclaredJobs | typeof RedeclaredJobs)[] = [DeclaredJobs],
    ) => {
      const app = await createQueueApp(providers, { redis: { keyPrefix } });
      apps.push(app);
      return app;
    };
    const first = await boot();
    const limitOf = async () => (await first.queue.getQueueGates()).declared?.rateLimit;
    expect(await limitOf()).toMatchObject({ max: 1, duration: 60_000, burst: 3 });
    await first.queue.enqueueBatch({ entities: [{}, {}, {}, {}], processor: 'declared' });
    await waitFor(() => first.app.get(DeclaredJobs).calls === 3, 'the bucket to be spent');

    // A second process with the same declaration: the bucket stays empty, the fourth waits.
    await boot();
    expect((await limitOf())!.tokens).toBeLessThan(1);
    expect((await first.queue.getJobCounts()).waiting).toBe(1);

    // Set at run time, the limit holds across boots until the declaration changes.
    await first.queue.setRateLimit('declared', { max: 100, duration: 1000 });
    await waitFor(async () => (await first.queue.getJobCounts()).waiting === 0, 'the override');
    await boot();
    expect(await limitOf()).toMatchObject({ max: 100, duration: 1000 });
    await boot([RedeclaredJobs]);
    expect(await limitOf()).toMatchObject({ max: 2, duration: 60_000, burst: 2 });
  });

  it('refuses a declared rate of zero at boot, naming the processor and the field', async () => {
    const booting = createQueueApp([ZeroRateJobs], { worker: { autoStart: false } });
    await expect(booting).rejects.toBeInstanceOf(QueueConfigError);
    await expect(booting).rejects.toMatchObject({ field: 'ZeroRateJobs.run: rateLimit.max' });
  });

  it('does not slow an unlimited queue served by the same processes as a limited one', async () => {
    // Two namespaces side by side in the same processes, so they share the CPU: in `mixed` the
    // processes serve a queue limited to 5 jobs a second beside the unlimited one; in `alone`
    // only the unlimited one. The window ends when `alone` is done.
    const [mixedPrefix, alonePrefix] = [uniquePrefix('mixed'), uniquePrefix('alone')];
    const mixed = [
      await createQueueApp([MeteredJobs], sideBySide(mixedPrefix)),
      await createQueueApp([MeteredJobs], sideBySide(mixedPrefix)),
    ];
    const alone = [
      await createQueueApp([MeteredJobs], sideBySide(alonePrefix)),
      await createQueueApp([MeteredJobs], sideBySide(alonePrefix)),
    ];
    apps.push(...mixed, ...alone);
    const count = (processes: QueueTestApp[], of: (jobs: MeteredJobs) => number) =>
      processes.reduce((sum, p) => sum + of(p.app.get(MeteredJobs)), 0);
    const limitedFrom = Date.now();
    await mixed[0]!.queue.setRateLimit('limited', { max: 5, duration: 1000 });
    await mixed[0]!.queue.enqueueBatch({
      entities: Array.from({ length: 200 }, () => ({})),
      processor: 'limited',
    });
    const jobs = Array.from({ length: 3000 }, () => ({}));
    const started = Date.now();
    await Promise.all([
      mixed[0]!.queue.enqueueBatch({ entities: jobs, processor: 'unlimited' }),
      alone[0]!.queue.enqueueBatch({ entities: jobs, processor: 'unlimited' }),
    ]);
    await waitFor(() => count(alone, (j) => j.unlimited) === 3000, 'the queue alone', 30_000);
    const mixedDone = count(mixed, (j) => j.unlimited);
    const elapsed = Date.now() - started;
    await waitFor(() => count(mixed, (j) => j.unlimited) === 3000, 'the queue beside', 30_000);
    const limited = count(mixed, (j) => j.limited.length);
    console.log(
      `[rate-limits] unlimited beside a limited queue: ${mixedDone}/3000 when alone finished` +
        ` in ${elapsed} ms; limited ran ${limited}`,
    );
    // Far behind if fetch waited for the limited queue's next token instead of serving on.
    expect(mixedDone).toBeGreaterThanOrEqual(1500);
    // The burst, then 5 a second.
    const allowed = 5 + Math.ceil(((Date.now() - limitedFrom) / 1000) * 5) + 1;
    expect(limited).toBeGreaterThan(0);
    expect(limited).toBeLessThanOrEqual(allowed);
  }, 60_000);

  it('holds three processes at concurrency 50 to 100 jobs a second, other queues unslowed', async () => {
    const keyPrefix = uniquePrefix('rate');
    const options = { redis: { keyPrefix }, worker: { workerCount: 50 } };
    for (let i = 0; i < 3; i++) apps.push(await createQueueApp([MeteredJobs], options));
    const [a] = apps as [QueueTestApp];
    await a.queue.setRateLimit('limited', { max: 100, duration: 1000 });
    const entities = Array.from({ length: 1300 }, () => ({}));
    await a.queue.enqueueBatch({ entities, processor: 'limited' });
    await a.queue.enqueueBatch({ entities: entities.slice(0, 500), processor: 'unlimited' });
    const jobs = apps.map((app) => app.app.get(MeteredJobs));
    const unlimited = () => jobs.reduce((sum, j) => sum + j.unlimited, 0);
    const limited = () => jobs.flatMap((j) => j.limited).sort((x, y) => x - y);
    await waitFor(() => unlimited() === 500, 'the unlimited queue');
    expect(limited().length).toBeLessThan(1000);
    expect((await a.queue.getQueueStatus()).gates.limited?.rateLimit).toMatchObject({ max: 100 });

    await waitFor(() => limited().length >= 1250, 'the limited queue', 30_000);
    // The first second spends the full bucket; from then on only the refill counts.
    const times = limited();
    const from = times[0]! + 1_000;
    const inWindow = times.filter((at) => at >= from && at < from + 10_000).length;
    expect(inWindow / 10).toBeGreaterThanOrEqual(95);
    expect(inWindow / 10).toBeLessThanOrEqual(105);
  }, 60_000);
});
