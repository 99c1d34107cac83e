// The `nest-queue-system/dashboard` entry. Kept apart from the main entry so that an app
// without a dashboard loads none of its routes, assets or sampler.
export { QueueDashboardModule } from './queue-dashboard.module.js';
export type {
  DashboardAuth,
  DashboardBasicAuth,
  DashboardMask,
  QueueDashboardAsyncOptions,
  QueueDashboardOptions,
  QueueDashboardRoute,
  QueueDashboardSettings,
} from './dashboard.options.js';
