import { Inject, Injectable, NotFoundException } from '@nestjs/common';
import type { QueueManager } from '../manager/queue-manager.js';
import { QueueOrchestrator } from '../worker/queue.orchestrator.js';
import { QUEUE_DASHBOARD_SETTINGS, type DashboardSettings } from './dashboard.options.js';

/** The namespaces the dashboard shows: the app's, or the ones its options name. */
@Injectable()
export class DashboardNamespaces {
  constructor(
    @Inject(QueueOrchestrator) private readonly orchestrator: QueueOrchestrator,
    @Inject(QUEUE_DASHBOARD_SETTINGS) private readonly settings: DashboardSettings,
  ) {}

  all(): QueueManager[] {
    const shown = this.settings.namespaces;
    return this.orchestrator
      .namespaces()
      .filter(({ name }) => !shown || shown.includes(name))
      .map(({ manager }) => manager);
  }

  names(): string[] {
    return this.all().map((manager) => manager.namespace);
  }

  /** The manager of a shown namespace (the first one when none is named); 404 otherwise. */
  get(name: unknown): QueueManager {
    const managers = this.all();
    const manager =
      name === undefined || name === ''
        ? managers[0]
        : managers.find((candidate) => candidate.namespace === name);
    if (!manager) throw new NotFoundException('No such namespace');
    return manager;
  }
}
