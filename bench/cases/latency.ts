import { collectGarbage, percentile, sleep, withTimeout } from '../util.js';
import { formatCount, type BenchCase, type RowSpec } from './case.js';

const ID = 'latency';
/** Pause after each job completes, so the consumer is back to blocking: the queue is idle. */
const IDLE_MS = 1;

/**
 * Enqueue-to-start latency on an idle queue: jobs sent one by one, each measured from just
 * before the enqueue call to the processor's first line; the next job is sent once the
 * previous one has completed and the consumer had `IDLE_MS` to go back to waiting.
 * Consumer concurrency 1.
 */
export const latency: BenchCase = {
  runs: (config) => [
    {
      id: ID,
      priority: 2,
      label: `enqueue-to-start latency, ${formatCount(config.latencyJobs)} jobs one by one`,
      summary: (m) =>
        `p50 ${m.values.p50!.toFixed(3)} ms, p99 ${m.values.p99!.toFixed(3)} ms, max ${m.values.max!.toFixed(3)} ms`,
      run: (ctx, system) =>
        ctx.withAdapter(system, { concurrency: 1, consumer: true }, async (adapter) => {
          let expected = -1;
          let onStart: ((at: number) => void) | undefined;
          await adapter.startProcessing((n) => {
            const at = performance.now();
            if (n === expected) onStart?.(at);
          });
          await sleep(50);
          collectGarbage();
          const samples: number[] = [];
          const jobs = ctx.config.latencyJobs;
          for (let n = 0; n < jobs; n++) {
            expected = n;
            const startedAt = new Promise<number>((resolve) => (onStart = resolve));
            const sentAt = performance.now();
            const enqueued = adapter.enqueueOne(n);
            const at = await withTimeout(startedAt, 10_000, `${system} latency job ${n} start`);
            samples.push(at - sentAt);
            await enqueued;
            await adapter.waitForProcessed(n + 1, 10_000);
            await sleep(IDLE_MS);
          }
          return {
            values: {
              p50: percentile(samples, 50),
              p99: percentile(samples, 99),
              max: Math.max(...samples),
            },
          };
        }),
    },
  ],
  rows: (config) => {
    const label = (stat: string) =>
      `enqueue-to-start latency on an idle queue, ${stat} of ${formatCount(config.latencyJobs)} jobs`;
    const row = (metric: string, stat: string, targets: RowSpec['targets']): RowSpec => ({
      caseId: ID,
      metric,
      label: label(stat),
      unit: 'ms',
      better: 'lower',
      targets,
      notes: [],
    });
    return [
      row('p50', 'p50', [{ kind: 'absolute', below: 0.5 }]),
      row('p99', 'p99', [{ kind: 'ratio', peer: 'bullmq', atMost: 1 }]),
      row('max', 'max', []),
    ];
  },
};
