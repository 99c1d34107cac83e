import type { Command } from 'commander';
import type { ListedJobState } from '../../manager/job-lists.js';
import type { QueueManager } from '../../manager/queue-manager.js';
import type { DeadLetterTarget } from '../../redis/queue-scripts.js';
import { CliError, EXIT, type ExitCode } from '../cli-errors.js';
import { note, printJson, printLine } from '../output.js';
import { withSession } from '../session-action.js';
import { confirm, startProgress } from '../terminal.js';

interface RetryOptions {
  from: string;
  queue?: string;
  processor?: string;
  all?: boolean;
  yes?: boolean;
  json?: boolean;
}

/** Jobs per script call: each call is short, and the bar moves between them. */
const CHUNK = 500;

function targetOf(from: string): DeadLetterTarget {
  if (from !== 'failures' && from !== 'system_errors') {
    throw new CliError('--from must be failures or system_errors', EXIT.usage);
  }
  return from;
}

/**
 * The ids of the dead letters that match the filter, read a page at a time. Bounded by the
 * list's length when the scan started, so that jobs failing again meanwhile are not chased.
 */
async function matchingIds(
  manager: QueueManager,
  from: DeadLetterTarget,
  options: RetryOptions,
): Promise<string[]> {
  const total = (await manager.getJobCounts())[from];
  const matches: string[] = [];
  for (let start = 0; start < total; start += CHUNK) {
    const ids = await manager.listJobIds(from as ListedJobState, start, CHUNK);
    const jobs = await Promise.all(ids.map((id) => manager.getJob(id)));
    for (const job of jobs) {
      if (!job) continue;
      if (options.queue !== undefined && job.queueName !== options.queue) continue;
      if (options.processor !== undefined && job.processor !== options.processor) continue;
      matches.push(job.operationId);
    }
    if (ids.length < CHUNK) break;
  }
  return matches;
}

async function retryIds(manager: QueueManager, from: DeadLetterTarget, ids: readonly string[]) {
  const progress = startProgress(`retrying ${from}`, ids.length);
  const retried: string[] = [];
  try {
    for (let i = 0; i < ids.length; i += CHUNK) {
      const operationIds = ids.slice(i, i + CHUNK);
      retried.push(...(await manager.retryFailed({ from, operationIds })));
      progress.advance(operationIds.length);
    }
  } finally {
    progress.stop();
  }
  return retried;
}

/** Every job of the list, as it stood when counted: the ones that fail again stay there. */
async function retryAll(manager: QueueManager, from: DeadLetterTarget, total: number) {
  const progress = startProgress(`retrying ${from}`, total);
  const retried: string[] = [];
  try {
    while (retried.length < total) {
      const limit = Math.min(CHUNK, total - retried.length);
      const moved = await manager.retryFailed({ from, limit });
      if (moved.length === 0) break;
      retried.push(...moved);
      progress.advance(moved.length);
    }
  } finally {
    progress.stop();
  }
  return retried;
}

async function retry(
  manager: QueueManager,
  ids: string[],
  options: RetryOptions,
): Promise<ExitCode> {
  const from = targetOf(options.from);
  const filtered = options.queue !== undefined || options.processor !== undefined;
  if ([ids.length > 0, filtered, options.all === true].filter(Boolean).length !== 1) {
    throw new CliError('say which jobs: ids, --queue / --processor, or --all', EXIT.usage);
  }
  let retried: string[];
  if (options.all) {
    const total = (await manager.getJobCounts())[from];
    if (total > 0) await confirm(`Retry all ${total} jobs of ${from}?`, options.yes);
    retried = await retryAll(manager, from, total);
  } else {
    retried = await retryIds(
      manager,
      from,
      filtered ? await matchingIds(manager, from, options) : ids,
    );
  }
  const moved = new Set(retried);
  const missing = ids.filter((id) => !moved.has(id));
  if (options.json) printJson({ namespace: manager.namespace, from, retried, missing });
  else printLine(`retried ${retried.length} jobs from ${from}`);
  if (missing.length > 0) {
    note(`not in ${from}: ${missing.join(', ')}`);
    return EXIT.notFound;
  }
  return EXIT.ok;
}

export function registerRetryCommand(program: Command): void {
  program
    .command('retry')
    .description('move dead letters back to their queue with fresh attempts')
    .argument('[ids...]', 'operation ids to retry')
    .option('--from <list>', 'failures or system_errors', 'failures')
    .option('--queue <name>', 'every dead letter of this queue')
    .option('--processor <name>', 'every dead letter of this processor')
    .option('--all', 'every job of the list (asks first)')
    .option('-y, --yes', 'do not ask (needed when standard input is not a terminal)')
    .option('--json', 'print JSON for scripts')
    .action(
      withSession<RetryOptions>((session, [ids], options) =>
        retry(session.manager, ids as string[], options),
      ),
    );
}
