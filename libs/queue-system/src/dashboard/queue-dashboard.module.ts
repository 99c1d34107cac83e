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
  checkRoute,
  checkSettings,
  QUEUE_DASHBOARD_SETTINGS,
  type DashboardRoute,
  type QueueDashboardAsyncOptions,
  type QueueDashboardOptions,
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
    const route = checkRoute({ path, guards });
    const guarded = (route.guards?.length ?? 0) > 0;
    const checked = checkSettings(settings, guarded);
    return this.assemble(route, [], {
      provide: QUEUE_DASHBOARD_SETTINGS,
      useFactory: () => announce(checked, guarded),
    });
  }

  static forRootAsync(options: QueueDashboardAsyncOptions): DynamicModule {
    const { path, guards, imports = [], useFactory, inject = [] } = options;
    const route = checkRoute({ path, guards });
    const guarded = (route.guards?.length ?? 0) > 0;
    return this.assemble(route, imports, {
      provide: QUEUE_DASHBOARD_SETTINGS,
      inject,
      useFactory: async (...args: never[]) => {
        const settings: unknown = await useFactory(...args);
        return announce(checkSettings(settings, guarded), guarded);
      },
    });
  }

  private static assemble(
    route: DashboardRoute,
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
function dashboardController({ path, guards = [] }: DashboardRoute): Type {
  @Controller(path)
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
