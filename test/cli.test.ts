import { Injectable } from '@nestjs/common';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PermanentError, Processor } from '../libs/queue-system/src/index.js';
import { runCli } from './support/cli-runner.js';
import {
  createQueueApp,
  redisUrl,
  uniquePrefix,
  waitFor,
  type QueueTestApp,
} from './support/queue-test-app.js';

@Injectable()
class CliJobs {
  @Processor('cli.ok')
  ok(entity: unknown) {
    return { echoed: entity };
  }

  @Processor('cli.fail')
  fail(): never {
    throw new PermanentError('card declined');
  }
}

/** A port nothing listens on: bound by the OS, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

function parsed<T = Record<string, unknown>>(stdout: string): T {
  return JSON.parse(stdout) as T;
}

describe('the nest-queue CLI, run as a process', () => {
  let app: QueueTestApp;
  let connection: string[];
  const cli = (args: string[], options?: Parameters<typeof runCli>[1]) =>
    runCli([...connection, ...args], options);

  beforeAll(async () => {
    const keyPrefix = uniquePrefix('cli');
    app = await createQueueApp([CliJobs], { redis: { keyPrefix }, worker: { autoStart: false } });
    connection = ['--redis', redisUrl(), '--prefix', keyPrefix];
  });
  afterAll(() => app?.close());

  it('enqueues from an argument and from standard input, and refuses bad JSON', async () => {
    const fromArgument = await cli(['enqueue', 'cli.ok', '{"n":1}', '--queue', 'alpha', '--json']);
    expect(fromArgument.code).toBe(0);
    const first = parsed<{ operationId: string; queueName: string }>(fromArgument.stdout);
    expect(first).toMatchObject({ queueName: 'alpha', priority: 'normal', created: true });
    expect((await app.queue.getJob(first.operationId))?.entity).toEqual({ n: 1 });

    const fromStdin = await cli(['enqueue', 'cli.ok', '--queue', 'alpha', '--priority', 'high'], {
      input: '{"n":2}',
    });
    expect(fromStdin.code).toBe(0);
    const id = /^(\S+) enqueued/.exec(fromStdin.stdout)?.[1];
    expect(await app.queue.getJob(id!)).toMatchObject({ entity: { n: 2 }, priority: 'high' });

    const bad = await cli(['enqueue', 'cli.ok', '{"secret":'], {});
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim()).toBe('nest-queue: the entity is not valid JSON');
    expect(bad.stderr).not.toContain('secret');
  });

  it('shows queues, stats and pages of jobs, as tables and as stable JSON', async () => {
    const queues = await cli(['queues', '--json']);
    expect(queues.code).toBe(0);
    expect(parsed(queues.stdout)).toMatchObject({
      namespace: 'default',
      queues: [
        { queue: 'alpha', waiting: { high: 1, normal: 1, low: 0 }, total: 2, paused: false },
      ],
    });
    expect((await cli(['queues'])).stdout).toMatch(/alpha\s+│ 1\s+│ 1\s+│ 0\s+│ 2\s+│ no/);

    const stats = parsed<{ counts: unknown }>((await cli(['stats', '--json'])).stdout);
    expect(Object.keys(stats)).toEqual(['namespace', 'counts', 'counters', 'backlog']);
    expect(stats.counts).toEqual(await app.queue.getJobCounts());

    const ids = await app.queue.listJobIds('waiting', 0, 10);
    const pages = [];
    for (const offset of ['0', '1']) {
      const page = await cli(['list', 'waiting', '--limit', '1', '--offset', offset, '--json']);
      expect(page.code).toBe(0);
      pages.push(parsed<{ jobs: { operationId: string }[] }>(page.stdout));
    }
    expect(pages[0]).toMatchObject({ state: 'waiting', offset: 0, limit: 1 });
    expect(pages.map((p) => p.jobs.map((j) => j.operationId)).flat()).toEqual(ids);
    expect(JSON.stringify(pages)).not.toContain('"entity"');
  });

  it('shows one job with its entity hidden unless asked, and exits 2 for an unknown id', async () => {
    const [id] = await app.queue.listJobIds('waiting', 0, 1);
    const shown = await cli(['job', '--', id!]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain('attempts');
    expect(shown.stdout).toMatch(/entity\s+│ \(hidden, 7 bytes of JSON/);
    const revealed = parsed<{ job: { entity: unknown; state: string } }>(
      (await cli(['job', '--show-entity', '--json', '--', id!])).stdout,
    );
    expect(revealed.job).toMatchObject({ state: 'waiting', entity: { n: 2 } });

    const missing = await cli(['job', 'no-such-job']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no job no-such-job');
  });

  it('pauses and resumes a queue for every process', async () => {
    const paused = await cli(['pause', 'alpha']);
    expect(paused).toMatchObject({ code: 0, stdout: 'queue alpha paused\n' });
    expect(await app.queue.isPaused('alpha')).toBe(true);
    expect((await cli(['pause', 'alpha'])).stdout).toBe('queue alpha was already paused\n');
    const resumed = parsed((await cli(['resume', 'alpha', '--json'])).stdout);
    expect(resumed).toEqual({ namespace: 'default', queue: 'alpha', paused: false, changed: true });
    expect(await app.queue.isPaused('alpha')).toBe(false);
  });

  it('purges only with --yes when no terminal can answer, and counts what it deleted', async () => {
    await app.queue.enqueueBatch({
      entities: [1, 2, 3, 4, 5],
      processor: 'cli.ok',
      queueName: 'beta',
    });
    const refused = await cli(['purge', 'beta']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('pass --yes');
    expect(await app.queue.listJobIds('waiting', 0, 100)).toHaveLength(7);

    const purged = await cli(['purge', 'beta', '--yes', '--json']);
    expect(purged.code).toBe(0);
    expect(parsed(purged.stdout)).toEqual({ namespace: 'default', queue: 'beta', purged: 5 });
    const beta = (await app.queue.getQueueDepths()).waiting.filter((d) => d.queue === 'beta');
    expect(beta.reduce((sum, d) => sum + d.count, 0)).toBe(0);
    expect((await cli(['purge', 'no-such-queue', '--yes'])).code).toBe(2);
  });

  it('lists live workers and schedules', async () => {
    await app.queue.upsertSchedule({ name: 'nightly', cron: '0 3 * * *', processor: 'cli.ok' });
    const schedules = parsed<{ schedules: { name: string; nextRunAt: string }[] }>(
      (await cli(['schedules', '--json'])).stdout,
    );
    expect(schedules.schedules).toMatchObject([{ name: 'nightly', processor: 'cli.ok' }]);
    expect(Date.parse(schedules.schedules[0]!.nextRunAt)).toBeGreaterThan(Date.now());

    expect(parsed((await cli(['workers', '--json'])).stdout)).toEqual({
      namespace: 'default',
      workers: [],
    });
    await app.queue.pauseQueue('alpha');
    app.worker.start();
    await waitFor(async () => (await app.queue.listWorkers()).length === 1, 'a worker entry');
    const workers = parsed<{ workers: { pid: number }[] }>(
      (await cli(['workers', '--json'])).stdout,
    );
    expect(workers.workers.map((w) => w.pid)).toEqual([process.pid]);
    expect((await cli(['workers'])).stdout).toContain(`:${process.pid}:`);
  });

  it('retries dead letters by id, by queue and all, verified through QueueManager', async () => {
    // The worker started above runs these; each fails for good and lands in `failures`.
    await app.queue.enqueueBatch({
      entities: [1, 2, 3, 4, 5, 6],
      processor: 'cli.fail',
      queueName: 'red',
    });
    await app.queue.enqueueBatch({ entities: [7, 8, 9], processor: 'cli.fail', queueName: 'blue' });
    await waitFor(async () => (await app.queue.getJobCounts()).failures === 9, '9 failures');
    await app.worker.stop();
    const failed = await app.queue.listJobIds('failures', 0, 100);
    const jobs = await Promise.all(failed.map((id) => app.queue.getJob(id)));
    const [a, b] = jobs.filter((job) => job?.queueName === 'red').map((job) => job!.operationId);

    // A generated id may begin with '-': after `--` nothing is read as an option.
    const byId = await cli(['retry', '--json', '--', a!, b!, 'no-such-job']);
    expect(byId.code).toBe(2);
    const reply = parsed<{ retried: string[]; missing: string[] }>(byId.stdout);
    expect(reply.retried.toSorted()).toEqual([a, b].toSorted());
    expect(reply.missing).toEqual(['no-such-job']);
    expect(byId.stderr).toContain('not in failures: no-such-job');
    expect((await app.queue.getJob(a!))?.state).toBe('waiting');

    const blue = await cli(['retry', '--queue', 'blue', '--json']);
    expect(blue.code).toBe(0);
    const blueIds = parsed<{ retried: string[] }>(blue.stdout).retried;
    expect(blueIds).toHaveLength(3);
    for (const id of blueIds) expect((await app.queue.getJob(id))?.queueName).toBe('blue');
    const left = (await app.queue.getJobCounts()).failures;
    expect(left).toBe(4);

    const refused = await cli(['retry', '--all']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`Retry all ${left} jobs of failures?`);
    expect((await app.queue.getJobCounts()).failures).toBe(left);

    const all = await cli(['retry', '--all', '--yes']);
    expect(all).toMatchObject({ code: 0, stdout: `retried ${left} jobs from failures\n` });
    expect(await app.queue.getJobCounts()).toMatchObject({ failures: 0 });
    expect((await cli(['retry'])).code).toBe(1);
  });

  it('says in one line, within seconds, that Redis is unreachable, with the password masked', async () => {
    const url = `redis://ops:hunter2@127.0.0.1:${await closedPort()}/0`;
    // A process still running at 20 s is killed: its code is then null, not 3.
    const run = await runCli(['stats', '--redis', url, '--timeout', '1000'], { timeoutMs: 20_000 });
    expect(run.code).toBe(3);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(
      `nest-queue: cannot reach Redis at redis://ops:****@127.0.0.1:${url.split(':')[3]}\n`,
    );
  });

  it('exits 1 on usage errors', async () => {
    expect((await cli(['no-such-command'])).code).toBe(1);
    const state = await cli(['list', 'finished']);
    expect(state.code).toBe(1);
    expect(state.stderr).toContain('state must be one of waiting, delayed, active');
    expect((await cli(['list', 'waiting', '--limit', '0'])).code).toBe(1);
  });
});
