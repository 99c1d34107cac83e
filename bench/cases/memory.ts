import { formatCount, type BenchCase } from './case.js';
import { BATCH_CASE_ID } from './enqueue-batch.js';

/**
 * Redis memory per waiting job: `INFO memory` used_memory before and after `memoryJobs`
 * small jobs, divided by the jobs. Measured in the runs of the batch enqueue case, which go
 * on to fill the queue to `memoryJobs` (see enqueue-batch.ts): no runs of its own.
 */
export const memory: BenchCase = {
  runs: () => [],
  rows: (config) => [
    {
      caseId: BATCH_CASE_ID,
      metric: 'bytesPerJob',
      label: `Redis memory per waiting job (${formatCount(config.memoryJobs)} small jobs)`,
      unit: 'bytes',
      better: 'lower',
      targets: [{ kind: 'ratio', peer: 'bullmq', atMost: 1 }],
      notes: [
        `used_memory delta from the flushed Redis before the system connected to after it disconnected; measured in the batch-enqueue runs, which go on to ${formatCount(config.memoryJobs)} waiting jobs`,
      ],
    },
  ],
};
