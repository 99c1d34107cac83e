import {
  Injectable,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import type { QueueWorker } from './queue-worker.js';

/**
 * Starts every worker once the whole application has booted (never at module init, so no
 * job runs against a half-built app) and drains them before connections close.
 */
@Injectable()
export class QueueOrchestrator implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly workers: { worker: QueueWorker; autoStart: boolean }[] = [];

  add(worker: QueueWorker, autoStart: boolean): void {
    this.workers.push({ worker, autoStart });
  }

  onApplicationBootstrap(): void {
    for (const { worker, autoStart } of this.workers) if (autoStart) worker.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all(this.workers.map(({ worker }) => worker.stop()));
  }
}
