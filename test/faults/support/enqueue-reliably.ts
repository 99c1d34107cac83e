import { randomUUID } from 'node:crypto';
import { QueueUnavailableError, type QueueManager } from '../../../libs/queue-system/src/index.js';

/**
 * Enqueues `count` jobs in small batches, each job with an operation id of ours, and enqueues
 * a batch again when it met `QueueUnavailableError`: the batch may have reached Redis anyway
 * (a busy host answering after `connectionTimeout`), and the same ids make the retry land
 * once. What the library documents for callers; returns the ids.
 */
export async function enqueueReliably(
  queue: QueueManager,
  processor: string,
  count: number,
  entity: () => object = () => ({}),
  batchSize = 100,
): Promise<string[]> {
  const ids: string[] = [];
  for (let start = 0; start < count; start += batchSize) {
    const size = Math.min(batchSize, count - start);
    const operationIds = Array.from({ length: size }, () => randomUUID());
    const entities = Array.from({ length: size }, entity);
    for (let attempt = 1; ; attempt++) {
      try {
        await queue.enqueueBatch({ entities, processor, operationIds });
        break;
      } catch (error) {
        if (!(error instanceof QueueUnavailableError) || attempt === 5) throw error;
      }
    }
    ids.push(...operationIds);
  }
  return ids;
}
