import type { LoggerService, LogLevel } from '@nestjs/common';
import { QueueConfigError } from '../errors.js';
import { customOption, oneOf } from './config-option.js';
import {
  configSection,
  defineSection,
  sectionJSON,
  type SectionJSON,
  type SectionOptions,
} from './config-section.js';
import { isObject } from './validate.js';

export type QueueLogLevel = LogLevel;

/** Most severe first, as Nest orders them. */
const LEVELS = [
  'fatal',
  'error',
  'warn',
  'log',
  'debug',
  'verbose',
] as const satisfies readonly QueueLogLevel[];

// The methods LoggerService makes mandatory; the others are optional there too.
const REQUIRED_METHODS = ['log', 'error', 'warn'] as const;

export const LOGGING_SECTION = defineSection({
  name: 'logging',
  className: 'QueueLoggingConfig',
  options: {
    logger: customOption(
      { accepts: 'Nest `LoggerService`', check: checkLoggerService },
      {
        defaultText: "Nest's `Logger`",
        description: 'Where the library writes its log lines.',
        show: (logger): 'custom' | 'default' => (logger ? 'custom' : 'default'),
      },
    ),
    level: oneOf(LEVELS, {
      default: 'log',
      description: 'The least severe level written.',
    }),
  },
});

export type QueueLoggingOptions = SectionOptions<typeof LOGGING_SECTION.options>;
export type QueueLoggingConfigJSON = SectionJSON<typeof LOGGING_SECTION.options>;

export class QueueLoggingConfig extends configSection(LOGGING_SECTION) {
  toJSON(): QueueLoggingConfigJSON {
    return sectionJSON(LOGGING_SECTION, this);
  }
}

function checkLoggerService(field: string, value: unknown): LoggerService {
  const missing = isObject(value)
    ? REQUIRED_METHODS.filter((method) => typeof value[method] !== 'function')
    : REQUIRED_METHODS;
  if (missing.length > 0) {
    throw new QueueConfigError(
      field,
      value,
      `must be a LoggerService; missing ${missing.join(', ')}()`,
    );
  }
  return value as LoggerService;
}
