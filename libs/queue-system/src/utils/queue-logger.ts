import { Logger, type LoggerService, type LogLevel } from '@nestjs/common';

const SEVERITY: Record<LogLevel, number> = {
  fatal: 0,
  error: 1,
  warn: 2,
  log: 3,
  debug: 4,
  verbose: 5,
};

/** The library's logger: the user's `logging.logger` (or Nest's), filtered by `logging.level`. */
export class QueueLogger {
  private readonly target: LoggerService;
  private readonly threshold: number;
  /** A user's LoggerService gets the context as its last argument; Nest's Logger has it already. */
  private readonly contextArgs: string[];

  constructor(context: string, options: { logger?: LoggerService; level: LogLevel }) {
    this.target = options.logger ?? new Logger(context);
    this.contextArgs = options.logger ? [context] : [];
    this.threshold = SEVERITY[options.level];
  }

  error(message: string, error?: unknown): void {
    if (this.threshold < SEVERITY.error) return;
    const trace = error instanceof Error ? error.stack : undefined;
    if (trace) this.target.error(message, trace, ...this.contextArgs);
    else this.target.error(message, ...this.contextArgs);
  }

  warn(message: string): void {
    if (this.threshold >= SEVERITY.warn) this.target.warn(message, ...this.contextArgs);
  }

  log(message: string): void {
    if (this.threshold >= SEVERITY.log) this.target.log(message, ...this.contextArgs);
  }

  debug(message: string): void {
    if (this.threshold >= SEVERITY.debug) this.target.debug?.(message, ...this.contextArgs);
  }
}

/** An error's class name alone, for errors whose message may quote user data (a parser's). */
export function errorName(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}

/** A readable one-line message for any thrown value. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return typeof error === 'string' ? error : (JSON.stringify(error) ?? String(error));
}
