/**
 * Bee-Queue as its README shows it: one `Queue`, jobs saved with `saveAll`, `process` with
 * a concurrency and an async handler, completions counted on the queue's local `succeeded`
 * event. Nothing of the bench harness is imported: this is what a user would write, with the
 * settings the harness gives Bee-Queue (finished jobs removed, events and job storage off),
 * or with retention left at Bee-Queue's default.
 *
 *   node --import @swc-node/register/esm-register bench/peer-readme/bee-queue-readme.ts \
 *     <redis-url> <concurrency> <warm-up jobs> <timed jobs> [none|default]
 *
 * Prints one JSON line: jobs/s of the 50,000 completions after the first 10,000 (as the
 * harness times them), jobs/s from the start, and this process's CPU per job in that window.
 */
import Queue from 'bee-queue';

const [url, concurrency, warmup, timed, retention = 'none'] = process.argv.slice(2);
const { hostname: host, port } = new URL(url!);
const total = Number(warmup) + Number(timed);

const queue = new Queue<{ n: number }>('example', {
  redis: { host, port: Number(port) },
  removeOnSuccess: retention === 'none',
  removeOnFailure: retention === 'none',
  getEvents: false,
  sendEvents: false,
  storeJobs: false,
  activateDelayedJobs: false,
});
// saveAll, a thousand at a time, as the harness fills its queue.
for (let n = 0; n < total; n += 1_000) {
  const size = Math.min(1_000, total - n);
  await queue.saveAll(Array.from({ length: size }, (_, i) => queue.createJob({ n: n + i })));
}

const marks: number[] = [];
let completed = 0;
let cpu = process.cpuUsage();
const done = new Promise<void>((resolve) => {
  queue.on('succeeded', () => {
    completed++;
    if (completed === Number(warmup)) {
      marks.push(performance.now());
      cpu = process.cpuUsage();
    }
    if (completed === total) {
      marks.push(performance.now());
      cpu = process.cpuUsage(cpu);
      resolve();
    }
  });
});
// A no-op job that fails means the run measured something else: no figure.
queue.on('failed', (_job, error) => {
  console.error(`job failed: ${error.message}`);
  process.exit(1);
});
marks.push(performance.now());
queue.process(Number(concurrency), async () => {});
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
