import type { QueueAdapter, SystemName } from './adapter.js';

/**
 * The adapter of one system, its code loaded on first use: a system's process loads that
 * system alone (a peer's process has no Nest nor our library in its heap).
 */
export async function createAdapter(system: SystemName): Promise<QueueAdapter> {
  switch (system) {
    case 'ours':
      return new (await import('./ours.js')).OursAdapter();
    case 'bullmq':
      return new (await import('./bullmq.js')).BullmqAdapter();
    case 'bee-queue':
      return new (await import('./bee-queue.js')).BeeQueueAdapter();
    case 'lua-job-hash':
      return new (await import('./bare-lua.js')).BareLuaAdapter('job-hash');
    case 'lua-shared-hash':
      return new (await import('./bare-lua.js')).BareLuaAdapter('shared-hash');
  }
}
