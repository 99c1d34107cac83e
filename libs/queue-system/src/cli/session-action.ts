import type { Command } from 'commander';
import { describeFailure, EXIT, type ExitCode } from './cli-errors.js';
import { note } from './output.js';
import { QueueSession, type ConnectionOptions } from './queue-session.js';

/**
 * What an action gets: the session on the namespace, its arguments, its options and the
 * globals; it may return an exit code other than 0 for an outcome that is not an error.
 */
type SessionAction<O> = (
  session: QueueSession,
  args: unknown[],
  options: O,
) => Promise<ExitCode | void>;

/**
 * Wraps a command's action: opens the session, runs, closes, and turns any failure into one
 * line on stderr and an exit code (docs/cli.md), never a stack trace.
 */
export function withSession<O>(action: SessionAction<O>) {
  return async (...params: unknown[]): Promise<void> => {
    const command = params.at(-1) as Command;
    const options = command.optsWithGlobals<O & ConnectionOptions>();
    let session: QueueSession | undefined;
    let code: number = EXIT.ok;
    try {
      session = new QueueSession(options);
      code = (await action(session, params.slice(0, -2), options)) ?? EXIT.ok;
    } catch (error) {
      const [exitCode, message] = describeFailure(error, session?.shownUrl ?? 'Redis');
      note(`nest-queue: ${message}`);
      code = exitCode;
    }
    await session?.close().catch(() => undefined);
    // A client still reconnecting to an absent Redis would keep the process alive; stdout and
    // stderr are written synchronously to files, pipes and terminals, so nothing is lost.
    process.exit(code);
  };
}
