import type { IncomingMessage } from 'node:http';
import type { CanActivate, ModuleMetadata, Type } from '@nestjs/common';
import { QueueConfigError } from '../errors.js';
import type { JobInfo } from '../interfaces/job-options.interface.js';
import {
  customOption,
  ITEMS,
  listOf,
  required,
  stringOption,
  wholeDuration,
} from '../config/config-option.js';
import { brief, MASK, maskNested, secretString } from '../config/config-nested.js';
import {
  defineSection,
  parseSection,
  type SectionOptions,
  type SectionValues,
} from '../config/config-section.js';
import { isObject } from '../config/validate.js';

/** HTTP Basic credentials; compared in constant time. Neither is ever shown in an error. */
const CREDENTIALS_SECTION = defineSection({
  name: 'dashboard.auth',
  options: {
    username: required(
      stringOption({
        forbidden: { pattern: /:/, description: '":"' },
        description: 'The Basic user name.',
        mask: () => MASK,
      }),
    ),
    password: required(secretString({ description: 'The Basic password.' })),
  },
});

export type DashboardBasicAuth = SectionOptions<typeof CREDENTIALS_SECTION.options>;

/**
 * Who may open the dashboard: Basic credentials, a function of the request (the Node request,
 * whatever the platform), or `false` to leave it open (a warning is logged at boot).
 */
export type DashboardAuth =
  DashboardBasicAuth | ((request: IncomingMessage) => boolean | Promise<boolean>) | false;

/** What the dashboard shows of a job's entity; the default shows it as stored. */
export type DashboardMask = (entity: unknown, job: JobInfo) => unknown;

type Guard = Type<CanActivate> | CanActivate;

/** Set when the module is declared: Nest binds routes and guards before any factory runs. */
export const DASHBOARD_ROUTE_SECTION = defineSection({
  name: 'dashboard',
  options: {
    path: required(
      customOption(
        { accepts: 'a URL path (`queues/ui`)', check: checkPath },
        { description: "Where the dashboard is served, under the app's global prefix." },
      ),
    ),
    guards: listOf(
      { accepts: 'Nest guard classes or instances', check: checkGuard },
      { defaultText: 'none', description: 'Nest guards run before every route.' },
    ),
  },
});

/** The options a factory may compute (`forRootAsync`). */
export const DASHBOARD_SETTINGS_SECTION = defineSection({
  name: 'dashboard',
  options: {
    auth: {
      ...customOption(
        {
          accepts: `\`${brief(CREDENTIALS_SECTION)}\`, \`(request) => boolean\`, \`false\``,
          check: checkAuth,
        },
        {
          defaultText: 'required without guards',
          description: 'Who may open it; `false` leaves it open, on purpose only.',
          mask: (value) => maskNested(CREDENTIALS_SECTION, value),
        },
      ),
      nested: { options: CREDENTIALS_SECTION.options, list: false },
    },
    mask: customOption(
      { accepts: '`(entity, job) => unknown`', check: checkFunction<DashboardMask> },
      {
        defaultText: 'the entity as stored',
        description: "Runs on a job's entity before the detail view shows it.",
      },
    ),
    namespaces: listOf(ITEMS.name, {
      defaultText: 'every namespace',
      description: 'The namespaces shown, by name.',
    }),
    pollInterval: wholeDuration(
      { min: 1000, max: 60_000 },
      { default: 3000, description: "Time between the page's reads while its tab is visible." },
    ),
    sampleInterval: wholeDuration(
      { min: 1000, max: 60_000 },
      { default: 10_000, description: 'Time between samples of the counters for the charts.' },
    ),
  },
});

export type QueueDashboardRoute = SectionOptions<typeof DASHBOARD_ROUTE_SECTION.options>;
export type QueueDashboardSettings = SectionOptions<typeof DASHBOARD_SETTINGS_SECTION.options>;
export type QueueDashboardOptions = QueueDashboardRoute & QueueDashboardSettings;

export interface QueueDashboardAsyncOptions
  extends QueueDashboardRoute, Pick<ModuleMetadata, 'imports'> {
  useFactory: (...args: never[]) => QueueDashboardSettings | Promise<QueueDashboardSettings>;
  inject?: (string | symbol | Type<unknown>)[];
}

export const QUEUE_DASHBOARD_SETTINGS = Symbol('QueueDashboardSettings');

/** The checked settings the controller and the sampler read. */
export type DashboardSettings = Omit<
  SectionValues<typeof DASHBOARD_SETTINGS_SECTION.options>,
  'auth'
> & { readonly auth: DashboardAuth };

export type DashboardRoute = SectionValues<typeof DASHBOARD_ROUTE_SECTION.options>;

export function checkRoute(route: QueueDashboardRoute): DashboardRoute {
  return parseSection(DASHBOARD_ROUTE_SECTION, route);
}

/** Refuses a dashboard that nobody guards, unless `auth: false` says so. */
export function checkSettings(settings: unknown, guarded: boolean): DashboardSettings {
  const checked = parseSection(DASHBOARD_SETTINGS_SECTION, settings);
  if (checked.auth === undefined && !guarded) {
    throw new QueueConfigError(
      'dashboard.auth',
      undefined,
      'give Basic credentials, a function of the request, or guards; `false` leaves the dashboard open',
    );
  }
  return { ...checked, auth: checked.auth ?? false };
}

function checkPath(field: string, path: unknown): string {
  if (typeof path !== 'string' || !/^\/?[\w\-./]*$/.test(path) || path.includes('..')) {
    throw new QueueConfigError(field, path, 'must be a URL path such as "queues/ui"');
  }
  return path.replace(/^\/+|\/+$/g, '');
}

function checkGuard(field: string, guard: unknown): Guard {
  if (typeof guard === 'function') return guard as Type<CanActivate>;
  if (isObject(guard) && typeof guard.canActivate === 'function')
    return guard as unknown as CanActivate;
  throw new QueueConfigError(field, typeof guard, 'must be a guard class or instance');
}

function checkAuth(field: string, auth: unknown): DashboardAuth {
  if (auth === false || typeof auth === 'function') return auth as DashboardAuth;
  if (isObject(auth)) return Object.freeze(parseSection(CREDENTIALS_SECTION, auth, {}, field));
  throw new QueueConfigError(field, typeof auth, 'must be credentials, a function or false');
}

function checkFunction<F>(field: string, value: unknown): F {
  if (typeof value !== 'function') {
    throw new QueueConfigError(field, typeof value, 'must be a function');
  }
  return value as F;
}
