import { Injectable } from '@nestjs/common';
import { afterEach, describe, expect, it } from 'vitest';
import { Processor, type JobContext } from '../libs/queue-system/src/index.js';
import {
  createQueueApp,
  uniquePrefix,
  waitFor,
  type QueueTestApp,
} from './support/queue-test-app.js';

@Injectable()
class PausableJobs {
  readonly done: string[] = [];
  readonly running = new Set<string>();
  release?: () => void;

  @Processor('report')
  report(_entity: unknown, ctx: JobContext) {
    this.done.push(`report:${ctx.operationId}`);
  }

  @Processor('ping')
  ping(_entity: unknown, ctx: JobContext) {
    this.done.push(`ping:${ctx.operationId}`);
  }

  @Processor('export')
  async export(_entity: unknown, ctx: JobContext) {
    this.running.add(ctx.operationId);
    await new Promise<void>((resolve) => (this.release = resolve));
    this.running.delete(ctx.operationId);
    this.done.push(`export:${ctx.operationId}`);
  }
}

/** Jobs of one processor (`<name>:`) that ran in any of `processes`. */
function ran(processes: QueueTestApp[], prefix: string): number {
  const done = processes.flatMap((p) => p.app.get(PausableJobs).done);
  return done.filter((d) => d.startsWith(prefix)).length;
}

describe('pause, resume and drain', () => {
  const apps: QueueTestApp[] = [];
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
  });

  /** Two processes on one namespace, each with its own connections. */
  async function twoProcesses(): Promise<[QueueTestApp, QueueTestApp]> {
    const keyPrefix = uniquePrefix('pause');
    const options = { redis: { keyPrefix }, worker: { idleBlockTimeout: 60_000 } };
    apps.push(await createQueueApp([PausableJobs], options));
    apps.push(await createQueueApp([PausableJobs], options));
    return [apps[0]!, apps[1]!];
  }

  it('holds a paused queue in every process while others run, and resumes it at once', async () => {
    const [a, b] = await twoProcesses();
    expect(await a.queue.pauseQueue('report')).toBe(true);
    expect(await b.queue.pauseQueue('report')).toBe(false);
    expect(await b.queue.isPaused('report')).toBe(true);
    await a.queue.enqueueBatch({
      entities: Array.from({ length: 20 }, () => ({})),
      processor: 'report',
    });
    // A job of another queue completing shows both workers fetch, past the paused one.
    await b.queue.enqueueBatch({
      entities: Array.from({ length: 20 }, () => ({})),
      processor: 'ping',
    });
    await waitFor(() => ran([a, b], 'ping:') === 20, 'the unpaused queue');
    expect(ran([a, b], 'report:')).toBe(0);
    const status = await a.queue.getQueueStatus();
    expect(status.gates).toEqual({ report: { paused: true } });
    expect(status[`${a.keyPrefix}normal:report`]).toBe(20);

    // Idle workers block for a minute: only the resume's wake-up can start these in time.
    expect(await b.queue.resumeQueue('report')).toBe(true);
    await waitFor(() => ran([a, b], 'report:') === 20, 'the resumed queue');
    expect(await a.queue.isPaused('report')).toBe(false);
    expect((await a.queue.getQueueStatus()).gates).toEqual({});
  });

  it("wakes idle workers on resume for tenants' jobs too", async () => {
    const [a, b] = await twoProcesses();
    await a.queue.pauseQueue('report');
    for (const tenant of ['acme', 'globex']) {
      await a.queue.enqueueBatch({
        entities: Array.from({ length: 10 }, () => ({})),
        processor: 'report',
        tenant,
      });
    }
    // Both workers go idle on the wake list: the paused queue is all there is.
    await b.queue.enqueue({ entity: {}, processor: 'ping' });
    await waitFor(() => ran([a, b], 'ping:') === 1, 'a fetch past the paused queue');
    expect(ran([a, b], 'report:')).toBe(0);
    expect(await b.queue.resumeQueue('report')).toBe(true);
    await waitFor(() => ran([a, b], 'report:') === 20, "the resumed tenants' jobs");
  });

  it('drains a queue: pauses it and resolves once its running jobs ended', async () => {
    const [a, b] = await twoProcesses();
    const { operationId } = await a.queue.enqueue({ entity: {}, processor: 'export' });
    const running = (id: string) => [a, b].find((p) => p.app.get(PausableJobs).running.has(id));
    await waitFor(() => running(operationId) !== undefined, 'the export to start');
    let released = false;
    const drained = b.queue.drainQueue('export', 10_000).then(() => released);
    await waitFor(() => a.queue.isPaused('export'), 'the drain to pause the queue');
    const next = await a.queue.enqueue({ entity: {}, processor: 'export' });
    released = true;
    running(operationId)!.app.get(PausableJobs).release!();
    expect(await drained).toBe(true);
    expect(await a.queue.isPaused('export')).toBe(true);
    expect((await a.queue.getJob(next.operationId))?.state).toBe('waiting');
    await a.queue.resumeQueue('export');
    await waitFor(() => running(next.operationId) !== undefined, 'the next export to start');
    running(next.operationId)!.app.get(PausableJobs).release!();
    await waitFor(() => ran([a, b], 'export:') === 2, 'both exports');
  });
});
