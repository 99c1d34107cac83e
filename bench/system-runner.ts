/**
 * The process of one system (see `system-process.ts`): runs the cases the parent asks for,
 * one at a time, and answers with what each measured.
 */
import { Redis } from 'ioredis';
import { createAdapter } from './adapters/index.js';
import { caseRuns } from './cases/index.js';
import { BenchContext } from './context.js';
import {
  SETUP_ENV,
  type RunnerMessage,
  type RunRequest,
  type SystemProcessSetup,
} from './system-process.js';
import { errorMessage } from './util.js';

const setup = JSON.parse(process.env[SETUP_ENV] ?? 'null') as SystemProcessSetup | null;
if (!setup || !process.send) {
  throw new Error('bench/system-runner.ts is started by bench/run.ts, not on its own');
}
const send = process.send.bind(process);
const { system, redisUrl, config } = setup;
const runs = new Map(caseRuns(config).map((run) => [run.id, run]));
const redis = new Redis(redisUrl, { maxRetriesPerRequest: 3 });
const ctx = new BenchContext(redisUrl, redis, config);

// Runs go one after the other, in the order asked.
let queue: Promise<void> = Promise.resolve();
process.on('message', (request: RunRequest) => {
  queue = queue.then(async () => {
    let reply: RunnerMessage;
    try {
      const run = runs.get(request.caseId);
      if (!run) throw new Error(`no case ${request.caseId}`);
      reply = { id: request.id, ok: true, measurement: await run.run(ctx, system) };
    } catch (error) {
      reply = { id: request.id, ok: false, error: errorMessage(error) };
    }
    send(reply);
  });
});
// The system's code is loaded before the parent hears that this process is ready.
await createAdapter(system);
send({ ready: true } satisfies RunnerMessage);
// The parent is gone (done, interrupted or dead): so is this process.
process.on('disconnect', () => {
  void queue.finally(() => {
    redis.disconnect();
    process.exit(0);
  });
});
