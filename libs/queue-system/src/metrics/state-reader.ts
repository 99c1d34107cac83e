import type { QueueDepths } from '../interfaces/queue-status.interface.js';
import type { QueueManager } from '../manager/queue-manager.js';
import { errorMessage, type QueueLogger } from '../utils/queue-logger.js';

/** One namespace's last read: its depths (the last good ones), and whether this read worked. */
export interface NamespaceState {
  namespace: string;
  depths?: QueueDepths;
  up: boolean;
}

class ReadTimeout extends Error {
  constructor(ms: number) {
    super(`no answer within ${ms} ms`);
  }
}

/**
 * Reads every namespace's depths for a scrape: one status script per namespace, shared by all
 * the gauges of one scrape and by the scrapes of the next `cacheMs`, so that frequent or
 * parallel scrapes do not multiply Redis calls. A namespace whose read fails or is late keeps
 * its last depths and is marked down; the failure is logged once, and so is the recovery.
 */
export class StateReader {
  private last?: { at: number; states: NamespaceState[] };
  private reading?: Promise<NamespaceState[]>;
  private readonly failing = new Set<string>();

  constructor(
    private readonly managers: () => QueueManager[],
    private readonly logger: QueueLogger,
    private readonly cacheMs: number,
    private readonly timeout: number,
  ) {}

  read(now = Date.now()): Promise<NamespaceState[]> {
    if (this.last && now - this.last.at < this.cacheMs) return Promise.resolve(this.last.states);
    this.reading ??= this.readAll().finally(() => (this.reading = undefined));
    return this.reading;
  }

  private async readAll(): Promise<NamespaceState[]> {
    const previous = new Map(this.last?.states.map((state) => [state.namespace, state.depths]));
    const states = await Promise.all(
      this.managers().map(async (manager): Promise<NamespaceState> => {
        const { namespace } = manager;
        try {
          const depths = await this.timed(manager.getQueueDepths());
          if (this.failing.delete(namespace)) {
            this.logger.log(`Metrics read the state of namespace ${namespace} again`);
          }
          return { namespace, depths, up: true };
        } catch (error) {
          if (!this.failing.has(namespace)) {
            this.failing.add(namespace);
            this.logger.warn(
              `Metrics cannot read the state of namespace ${namespace} (${errorMessage(error)}); its gauges keep their last values`,
            );
          }
          return { namespace, depths: previous.get(namespace), up: false };
        }
      }),
    );
    this.last = { at: Date.now(), states };
    return states;
  }

  /** The read, or a rejection after `timeout`: a scrape answers even while Redis does not. */
  private timed<T>(promise: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ReadTimeout(this.timeout)), this.timeout);
      timer.unref();
    });
    promise.catch(() => undefined);
    return Promise.race([promise, late]).finally(() => clearTimeout(timer));
  }
}
