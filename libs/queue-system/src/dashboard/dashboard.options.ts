import type { IncomingMessage } from 'node:http';
import type { CanActivate, ModuleMetadata, Type } from '@nestjs/common';
import { QueueConfigError } from '../errors.js';
import type { JobInfo } from '../interfaces/job-options.interface.js';

/** HTTP Basic credentials; compared in constant time. */
export interface DashboardBasicAuth {
  username: string;
  password: string;
}

/**
 * Who may open the dashboard: Basic credentials, a function of the request (the Node request,
 * whatever the platform), or `false` to leave it open (a warning is logged at boot).
 */
export type DashboardAuth =
  DashboardBasicAuth | ((request: IncomingMessage) => boolean | Promise<boolean>) | false;

/** What the dashboard shows of a job's entity; the default shows it as stored. */
export type DashboardMask = (entity: unknown, job: JobInfo) => unknown;

/** The options a factory may compute (`forRootAsync`). */
export interface QueueDashboardSettings {
  /** Required unless `guards` are given; `false` only on purpose. */
  auth?: DashboardAuth;
  /** Runs on a job's entity before the detail view shows it; its return value is shown. */
  mask?: DashboardMask;
  /** The namespaces shown, by name; default every namespace of the app. */
  namespaces?: string[];
  /** How often the page reads the state, ms; default 3,000, at least 1,000. */
  pollInterval?: number;
  /** How often the counters are sampled for the charts, ms; default 10,000. */
  sampleInterval?: number;
}

/** Set when the module is declared: Nest binds routes and guards before any factory runs. */
export interface QueueDashboardRoute {
  /** Where the dashboard is served, e.g. `queues/ui`. */
  path: string;
  /** Nest guards run before every route (classes resolve in the dashboard's module). */
  guards?: (Type<CanActivate> | CanActivate)[];
}

export interface QueueDashboardOptions extends QueueDashboardRoute, QueueDashboardSettings {}

export interface QueueDashboardAsyncOptions
  extends QueueDashboardRoute, Pick<ModuleMetadata, 'imports'> {
  useFactory: (...args: never[]) => QueueDashboardSettings | Promise<QueueDashboardSettings>;
  inject?: (string | symbol | Type<unknown>)[];
}

export const QUEUE_DASHBOARD_SETTINGS = Symbol('QueueDashboardSettings');

/** The checked settings the controller and the sampler read. */
export interface DashboardSettings {
  auth: DashboardAuth;
  mask?: DashboardMask;
  namespaces?: string[];
  pollInterval: number;
  sampleInterval: number;
}

export function checkPath(path: unknown): string {
  if (typeof path !== 'string' || !/^\/?[\w\-./]*$/.test(path) || path.includes('..')) {
    throw new QueueConfigError('dashboard.path', path, 'must be a URL path such as "queues/ui"');
  }
  return path.replace(/^\/+|\/+$/g, '');
}

/** Refuses a dashboard that nobody guards, unless `auth: false` says so. */
export function checkSettings(
  settings: QueueDashboardSettings,
  guarded: boolean,
): DashboardSettings {
  const { auth, mask, namespaces } = settings;
  if (auth === undefined && !guarded) {
    throw new QueueConfigError(
      'dashboard.auth',
      undefined,
      'give Basic credentials, a function of the request, or guards; `false` leaves the dashboard open',
    );
  }
  if (auth && typeof auth === 'object') {
    if (typeof auth.username !== 'string' || auth.username === '' || auth.username.includes(':')) {
      throw new QueueConfigError(
        'dashboard.auth.username',
        undefined,
        'must be a non-empty string without ":"',
        { withhold: true },
      );
    }
    if (typeof auth.password !== 'string' || auth.password === '') {
      throw new QueueConfigError(
        'dashboard.auth.password',
        undefined,
        'must be a non-empty string',
        { withhold: true },
      );
    }
  } else if (auth !== undefined && auth !== false && typeof auth !== 'function') {
    throw new QueueConfigError(
      'dashboard.auth',
      typeof auth,
      'must be credentials, a function or false',
    );
  }
  if (mask !== undefined && typeof mask !== 'function') {
    throw new QueueConfigError('dashboard.mask', typeof mask, 'must be a function');
  }
  if (
    namespaces !== undefined &&
    (!Array.isArray(namespaces) || namespaces.some((n) => typeof n !== 'string'))
  ) {
    throw new QueueConfigError(
      'dashboard.namespaces',
      namespaces,
      'must be an array of namespace names',
    );
  }
  return {
    auth: auth ?? false,
    mask,
    namespaces,
    pollInterval: interval('dashboard.pollInterval', settings.pollInterval, 3_000),
    sampleInterval: interval('dashboard.sampleInterval', settings.sampleInterval, 10_000),
  };
}

function interval(field: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1_000 || value > 60_000) {
    throw new QueueConfigError(field, value, 'must be an integer from 1,000 to 60,000 ms');
  }
  return value;
}
