import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { QueueConfig } from '../config/index.js';
import { QUEUE_CONFIG } from '../queue.constants.js';
import { errorMessage, QueueLogger } from '../utils/queue-logger.js';
import { DashboardNamespaces } from './dashboard-namespaces.js';
import { CounterRing, type MinuteBucket } from './counter-sampler.js';
import { QUEUE_DASHBOARD_SETTINGS, type DashboardSettings } from './dashboard.options.js';

/**
 * Samples the counters every namespace keeps in Redis (one HGETALL each) on a timer, for the
 * charts of the last hour. Kept in this process's memory: a restart starts the charts empty,
 * and two instances of the app sample the same counters, so they draw the same charts.
 */
@Injectable()
export class DashboardSampler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly rings = new Map<string, CounterRing>();
  private readonly failing = new Set<string>();
  private timer?: NodeJS.Timeout;
  private readonly logger: QueueLogger;

  constructor(
    @Inject(QUEUE_DASHBOARD_SETTINGS) private readonly settings: DashboardSettings,
    @Inject(DashboardNamespaces) private readonly namespaces: DashboardNamespaces,
    @Inject(QUEUE_CONFIG) config: QueueConfig,
  ) {
    this.logger = new QueueLogger('QueueDashboard', config.logging);
  }

  onApplicationBootstrap(): void {
    void this.sample();
    this.timer = setInterval(() => void this.sample(), this.settings.sampleInterval);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  series(namespace: string, now = Date.now()): MinuteBucket[] {
    return (this.rings.get(namespace) ?? new CounterRing()).series(now);
  }

  private async sample(): Promise<void> {
    await Promise.all(
      this.namespaces.all().map(async (manager) => {
        const { namespace } = manager;
        try {
          const counters = await manager.getMetrics();
          let ring = this.rings.get(namespace);
          if (!ring) this.rings.set(namespace, (ring = new CounterRing()));
          ring.add(counters, Date.now());
          if (this.failing.delete(namespace)) {
            this.logger.log(`Dashboard reads the counters of namespace ${namespace} again`);
          }
        } catch (error) {
          if (this.failing.has(namespace)) return;
          this.failing.add(namespace);
          this.logger.warn(
            `Dashboard cannot read the counters of namespace ${namespace} (${errorMessage(error)})`,
          );
        }
      }),
    );
  }
}
