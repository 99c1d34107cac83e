import type { Command } from 'commander';
import type { JobInfo } from '../../interfaces/job-options.interface.js';
import { LISTED_JOB_STATES, type ListedJobState } from '../../manager/job-lists.js';
import type { QueueManager } from '../../manager/queue-manager.js';
import { CliError, EXIT, integerOption } from '../cli-errors.js';
import {
  duration,
  firstLine,
  isoTime,
  printJson,
  printLine,
  renderPairs,
  renderTable,
} from '../output.js';
import { withSession } from '../session-action.js';
import { registerEnqueueCommand } from './enqueue-command.js';

interface ListOptions {
  json?: boolean;
  limit: string;
  offset: string;
}

interface JobOptions {
  json?: boolean;
  showEntity?: boolean;
}

/** What `list` shows of a job: no entity, no result. */
function summary(job: JobInfo) {
  const { operationId, state, processor, queueName, priority, attempts, maxAttempts } = job;
  const { tenant, enqueuedAt, lastError } = job;
  return {
    operationId,
    state,
    processor,
    queueName,
    priority,
    tenant,
    attempts,
    maxAttempts,
    enqueuedAt,
    lastError,
  };
}

async function list(manager: QueueManager, state: string, options: ListOptions): Promise<void> {
  if (!LISTED_JOB_STATES.includes(state as ListedJobState)) {
    throw new CliError(`state must be one of ${LISTED_JOB_STATES.join(', ')}`, EXIT.usage);
  }
  const limit = integerOption('--limit', options.limit, 1);
  const offset = integerOption('--offset', options.offset, 0);
  const ids = await manager.listJobIds(state as ListedJobState, offset, limit);
  const found = await Promise.all(ids.map((id) => manager.getJob(id)));
  // A job may expire or move between the two reads: it is left out of the page.
  const jobs = found.filter((job) => job !== undefined).map(summary);
  if (options.json) {
    printJson({ namespace: manager.namespace, state, offset, limit, jobs });
    return;
  }
  if (jobs.length === 0) return printLine(`No ${state} jobs at offset ${offset}.`);
  const head = ['id', 'processor', 'queue', 'priority', 'attempts', 'enqueued', 'last error'];
  const rows = jobs.map((j) => [
    j.operationId,
    j.processor,
    j.queueName,
    j.priority,
    `${j.attempts}/${j.maxAttempts}`,
    isoTime(j.enqueuedAt),
    firstLine(j.lastError) ?? '-',
  ]);
  printLine(renderTable(head, rows));
  const next = ids.length === limit ? `; next page: --offset ${offset + limit}` : '';
  printLine(`${jobs.length} ${state} jobs from offset ${offset}${next}`);
}

/** How a hidden value is shown: its size, so that "empty" and "huge" still tell something. */
function hidden(value: unknown): string {
  if (value === undefined) return '-';
  const size = Buffer.byteLength(JSON.stringify(value) ?? '');
  return `(hidden, ${size} bytes of JSON; --show-entity prints it)`;
}

function jobPairs(job: JobInfo, show: boolean): [string, string | number | undefined][] {
  const waited = job.firstAttemptAt === undefined ? undefined : job.firstAttemptAt - job.enqueuedAt;
  const ran =
    job.finishedAt === undefined || job.firstAttemptAt === undefined
      ? undefined
      : job.finishedAt - job.firstAttemptAt;
  return [
    ['id', job.operationId],
    ['state', job.state],
    ['processor', job.processor],
    ['queue', job.queueName],
    ['priority', job.priority],
    ['tenant', job.tenant ?? '-'],
    ['attempts', `${job.attempts}/${job.maxAttempts}`],
    ['enqueued', isoTime(job.enqueuedAt)],
    ['first attempt', isoTime(job.firstAttemptAt) ?? '-'],
    ['finished', isoTime(job.finishedAt) ?? '-'],
    ['waited', duration(waited) ?? '-'],
    ['ran', duration(ran) ?? '-'],
    ['progress', job.progress === undefined ? '-' : JSON.stringify(job.progress)],
    ['last error', job.lastError ?? '-'],
    ['entity', show ? JSON.stringify(job.entity, null, 2) : hidden(job.entity)],
    ['result', show ? (JSON.stringify(job.result, null, 2) ?? '-') : hidden(job.result)],
  ];
}

async function showJob(manager: QueueManager, id: string, options: JobOptions): Promise<void> {
  const job = await manager.getJob(id);
  if (!job) throw new CliError(`no job ${id} (never enqueued, or expired)`, EXIT.notFound);
  if (options.json) {
    const { entity, result, ...rest } = job;
    const shown = options.showEntity ? { ...rest, entity, result } : rest;
    printJson({ namespace: manager.namespace, job: shown });
    return;
  }
  printLine(renderPairs(jobPairs(job, options.showEntity === true)));
}

export function registerJobCommands(program: Command): void {
  program
    .command('list')
    .description(`job ids and summaries of one state: ${LISTED_JOB_STATES.join(', ')}`)
    .argument('<state>', 'waiting, delayed, active, failures or system_errors')
    .option('--limit <n>', 'jobs per page', '20')
    .option('--offset <n>', 'jobs to skip', '0')
    .option('--json', 'print JSON for scripts')
    .action(
      withSession<ListOptions>((session, [state], options) =>
        list(session.manager, state as string, options),
      ),
    );
  program
    .command('job')
    .description('one job: state, attempts, last error, timings, progress')
    .argument('<id>', 'the operation id')
    .option('--show-entity', 'print the entity and the result (hidden by default)')
    .option('--json', 'print JSON for scripts')
    .action(
      withSession<JobOptions>((session, [id], options) =>
        showJob(session.manager, id as string, options),
      ),
    );
  registerEnqueueCommand(program);
}
