import type { QueueAdapter, SystemName } from './adapter.js';
import { BareLuaAdapter } from './bare-lua.js';
import { BeeQueueAdapter } from './bee-queue.js';
import { BullmqAdapter } from './bullmq.js';
import { OursAdapter } from './ours.js';

export function createAdapter(system: SystemName): QueueAdapter {
  switch (system) {
    case 'ours':
      return new OursAdapter();
    case 'bullmq':
      return new BullmqAdapter();
    case 'bee-queue':
      return new BeeQueueAdapter();
    case 'lua-job-hash':
      return new BareLuaAdapter('job-hash');
    case 'lua-shared-hash':
      return new BareLuaAdapter('shared-hash');
  }
}
