import {
  Controller,
  Logger,
  Module,
  UseGuards,
  type DynamicModule,
  type Provider,
  type Type,
} from '@nestjs/common';
import { DashboardAccessGuard } from './dashboard-access.guard.js';
import { DashboardController } from './dashboard.controller.js';
import { DashboardNamespaces } from './dashboard-namespaces.js';
import { DashboardReader } from './dashboard-reader.js';
import { DashboardSampler } from './dashboard-sampler.js';
import {
  checkPath,
  checkSettings,
  QUEUE_DASHBOARD_SETTINGS,
  type QueueDashboardAsyncOptions,
  type QueueDashboardOptions,
  type QueueDashboardRoute,
  type QueueDashboardSettings,
} from './dashboard.options.js';

const SERVICES: Provider[] = [DashboardNamespaces, DashboardSampler, DashboardReader];

/**
 * The web dashboard of the app's queues, after `QueueModule.forRoot`:
 * `QueueDashboardModule.forRoot({ path: 'queues/ui', auth: { username, password } })`, or
 * `forRootAsync({ path, useFactory, inject })` for settings read from configuration. The path
 * and the guards are given directly, because Nest binds routes before any factory runs.
 */
@Module({})
export class QueueDashboardModule {
  static forRoot(options: QueueDashboardOptions): DynamicModule {
    const { path, guards, ...settings } = options;
    const guarded = (guards?.length ?? 0) > 0;
    const checked = checkSettings(settings, guarded);
    return this.assemble({ path, guards }, [], {
      provide: QUEUE_DASHBOARD_SETTINGS,
      useFactory: () => announce(checked, guarded),
    });
  }

  static forRootAsync(options: QueueDashboardAsyncOptions): DynamicModule {
    const { path, guards, imports = [], useFactory, inject = [] } = options;
    const guarded = (guards?.length ?? 0) > 0;
    return this.assemble({ path, guards }, imports, {
      provide: QUEUE_DASHBOARD_SETTINGS,
      inject,
      useFactory: async (...args: never[]) => {
        const settings: QueueDashboardSettings = await useFactory(...args);
        return announce(checkSettings(settings, guarded), guarded);
      },
    });
  }

  private static assemble(
    route: QueueDashboardRoute,
    imports: NonNullable<QueueDashboardAsyncOptions['imports']>,
    settings: Provider,
  ): DynamicModule {
    return {
      module: QueueDashboardModule,
      imports,
      controllers: [dashboardController(route)],
      providers: [settings, ...SERVICES, DashboardAccessGuard],
    };
  }
}

/** A controller class of its own per dashboard, at its path, behind its guards. */
function dashboardController({ path, guards = [] }: QueueDashboardRoute): Type {
  @Controller(checkPath(path))
  @UseGuards(DashboardAccessGuard, ...guards)
  class QueueDashboardController extends DashboardController {}
  return QueueDashboardController;
}

function announce<T extends { auth: unknown }>(settings: T, guarded: boolean): T {
  if (settings.auth === false && !guarded) {
    new Logger('QueueDashboard').warn(
      'The queue dashboard is open to anyone who reaches it (auth: false and no guards)',
    );
  }
  return settings;
}
