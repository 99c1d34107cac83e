import { QueueConfigError, QueueInputError, QueueUnavailableError } from '../errors.js';

/** The exit codes scripts can rely on; docs/cli.md lists them. */
export const EXIT = {
  ok: 0,
  usage: 1,
  notFound: 2,
  unreachable: 3,
  declined: 4,
  failed: 5,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** An error the CLI reports as one line on stderr, ending the process with `code`. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly code: ExitCode,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** The exit code and the one line an error is reported with; never a stack trace. */
export function describeFailure(error: unknown, redisUrl: string): [ExitCode, string] {
  if (error instanceof CliError) return [error.code, error.message];
  if (error instanceof QueueUnavailableError) {
    return [EXIT.unreachable, `cannot reach Redis at ${redisUrl}`];
  }
  if (error instanceof QueueInputError || error instanceof QueueConfigError) {
    return [EXIT.usage, error.message];
  }
  const message = error instanceof Error ? error.message : String(error);
  return [EXIT.failed, message];
}

/** A whole number of at least `min`, or a usage error naming the option. */
export function integerOption(name: string, value: string, min: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) {
    throw new CliError(`${name} must be a whole number of at least ${min}`, EXIT.usage);
  }
  return n;
}
