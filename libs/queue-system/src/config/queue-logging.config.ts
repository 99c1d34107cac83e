import type { LoggerService, LogLevel } from '@nestjs/common';
import { QueueConfigError } from '../errors.js';
import { isObject, keysOf, oneOf, rejectUnknownKeys } from './validate.js';

export type QueueLogLevel = LogLevel;

export interface QueueLoggingOptions {
  /** Defaults to Nest's logger. */
  logger?: LoggerService;
  /** Least severe level written. */
  level?: QueueLogLevel;
}

export interface QueueLoggingConfigJSON {
  logger: 'custom' | 'default';
  level: QueueLogLevel;
}

const KEYS = keysOf<QueueLoggingOptions>({ logger: true, level: true });

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

export class QueueLoggingConfig {
  readonly logger?: LoggerService;
  readonly level: QueueLogLevel;

  constructor(options: QueueLoggingOptions = {}) {
    rejectUnknownKeys('logging', options, KEYS);
    if (options.logger !== undefined) this.logger = loggerService(options.logger);
    this.level = oneOf('logging.level', options.level, LEVELS, 'log');
    Object.freeze(this);
  }

  toJSON(): QueueLoggingConfigJSON {
    return { logger: this.logger ? 'custom' : 'default', level: this.level };
  }
}

function loggerService(value: unknown): LoggerService {
  const missing = isObject(value)
    ? REQUIRED_METHODS.filter((method) => typeof value[method] !== 'function')
    : REQUIRED_METHODS;
  if (missing.length > 0) {
    throw new QueueConfigError(
      'logging.logger',
      value,
      `must be a LoggerService; missing ${missing.join(', ')}()`,
    );
  }
  return value as LoggerService;
}
