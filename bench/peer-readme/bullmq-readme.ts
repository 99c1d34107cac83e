/**
 * BullMQ as its README's gist shows it: a `Queue`, jobs added, a `Worker` with an async
 * processor, completions counted on the worker. Nothing of the bench harness is imported:
 * this is what a user would write, with the settings the harness gives BullMQ (finished jobs
 * removed, events stream capped), or with retention left at BullMQ's default.
 *
 *   node --import @swc-node/register/esm-register bench/peer-readme/bullmq-readme.ts \
 *     <redis-url> <concurrency> <warm-up jobs> <timed jobs> [none|default]
 *
 * Prints one JSON line: jobs/s of the 50,000 completions after the first 10,000 (as the
 * harness times them), jobs/s from the start, and this process's CPU per job in that window.
 */
import { Queue, Worker } from 'bullmq';

const [url, concurrency, warmup, timed, retention = 'none'] = process.argv.slice(2);
const { hostname: host, port } = new URL(url!);
const connection = { host, port: Number(port) };
const total = Number(warmup) + Number(timed);
const removeAtOnce = retention === 'none';

const queue = new Queue('Paint', {
  connection,
  defaultJobOptions: removeAtOnce ? { removeOnComplete: true, removeOnFail: true } : {},
  streams: { events: { maxLen: 0 } },
});
// addBulk, a thousand at a time, as the harness fills its queue.
for (let n = 0; n < total; n += 1_000) {
  const size = Math.min(1_000, total - n);
  await queue.addBulk(
    Array.from({ length: size }, (_, i) => ({ name: 'cars', data: { n: n + i } })),
  );
}

const marks: number[] = [];
let completed = 0;
let cpu = process.cpuUsage();
const done = new Promise<void>((resolve) => {
  const started = performance.now();
  const worker = new Worker('Paint', async () => {}, {
    connection,
    concurrency: Number(concurrency),
    ...(removeAtOnce ? { removeOnComplete: { count: 0 }, removeOnFail: { count: 0 } } : {}),
  });
  worker.on('completed', () => {
    completed++;
    if (completed === Number(warmup)) {
      marks.push(performance.now());
      cpu = process.cpuUsage();
    }
    if (completed === total) {
      marks.push(performance.now());
      cpu = process.cpuUsage(cpu);
      void worker.close().then(resolve);
    }
  });
  // A no-op job that fails means the run measured something else: no figure.
  worker.on('failed', (_job, error) => {
    console.error(`job failed: ${error.message}`);
    process.exit(1);
  });
  marks.push(started);
});
await done;
await queue.close();

const [start, opened, end] = marks as [number, number, number];
process.stdout.write(
  `${JSON.stringify({
    jobsPerSec: Number(timed) / ((end - opened) / 1000),
    fromStartJobsPerSec: total / ((end - start) / 1000),
    nodeCpuUsPerJob: (cpu.user + cpu.system) / Number(timed),
  })}\n`,
);
