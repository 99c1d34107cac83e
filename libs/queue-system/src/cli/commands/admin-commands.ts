import type { Command } from 'commander';
import { JOB_PRIORITIES, type JobPriority } from '../../interfaces/job-options.interface.js';
import type { QueueManager } from '../../manager/queue-manager.js';
import { CliError, EXIT } from '../cli-errors.js';
import { note, printJson, printLine } from '../output.js';
import { withSession } from '../session-action.js';
import { confirm, startProgress } from '../terminal.js';
import { registerRetryCommand } from './retry-command.js';

interface PurgeOptions {
  priority?: string;
  yes?: boolean;
  json?: boolean;
}

interface GateOptions {
  json?: boolean;
}

async function purge(manager: QueueManager, queue: string, options: PurgeOptions): Promise<void> {
  const priorities = options.priority === undefined ? JOB_PRIORITIES : [options.priority];
  if (!priorities.every((p) => JOB_PRIORITIES.includes(p as JobPriority))) {
    throw new CliError(`--priority must be one of ${JOB_PRIORITIES.join(', ')}`, EXIT.usage);
  }
  const depths = (await manager.getQueueDepths()).waiting.filter((d) => d.queue === queue);
  if (depths.length === 0) {
    throw new CliError(`no queue ${queue} in namespace ${manager.namespace}`, EXIT.notFound);
  }
  const waiting = depths
    .filter((d) => priorities.includes(d.priority))
    .reduce((sum, d) => sum + d.count, 0);
  if (waiting > 0) {
    const which = options.priority === undefined ? '' : `${options.priority}-priority `;
    await confirm(`Delete the ${waiting} waiting ${which}jobs of queue ${queue}?`, options.yes);
  }
  const progress = startProgress(`purging ${queue}`, waiting);
  let purged = 0;
  try {
    for (const priority of priorities) {
      const deleted = await manager.purgeQueue(queue, priority as JobPriority);
      purged += deleted;
      progress.advance(deleted);
    }
  } finally {
    progress.stop();
  }
  if (options.json) printJson({ namespace: manager.namespace, queue, purged });
  else printLine(`purged ${purged} waiting jobs of queue ${queue}`);
}

async function setGate(
  manager: QueueManager,
  queue: string,
  pause: boolean,
  options: GateOptions,
): Promise<void> {
  const changed = pause ? await manager.pauseQueue(queue) : await manager.resumeQueue(queue);
  const state = pause ? 'paused' : 'resumed';
  if (options.json) {
    printJson({ namespace: manager.namespace, queue, paused: pause, changed });
    return;
  }
  printLine(changed ? `queue ${queue} ${state}` : `queue ${queue} was already ${state}`);
  if (pause && changed) note('Its running jobs end; no process starts another until `resume`.');
}

export function registerAdminCommands(program: Command): void {
  registerRetryCommand(program);
  program
    .command('purge')
    .description('delete the waiting jobs of a queue (asks first)')
    .argument('<queue>', 'the queue')
    .option('--priority <priority>', `only this priority: ${JOB_PRIORITIES.join(', ')}`)
    .option('-y, --yes', 'do not ask (needed when standard input is not a terminal)')
    .option('--json', 'print JSON for scripts')
    .action(
      withSession<PurgeOptions>((session, [queue], options) =>
        purge(session.manager, queue as string, options),
      ),
    );
  for (const pause of [true, false]) {
    program
      .command(pause ? 'pause' : 'resume')
      .description(pause ? 'stop every process from starting the jobs of a queue' : 'undo `pause`')
      .argument('<queue>', 'the queue')
      .option('--json', 'print JSON for scripts')
      .action(
        withSession<GateOptions>((session, [queue], options) =>
          setGate(session.manager, queue as string, pause, options),
        ),
      );
  }
}
