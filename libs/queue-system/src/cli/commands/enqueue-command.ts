import type { Command } from 'commander';
import { JOB_PRIORITIES, type JobPriority } from '../../interfaces/job-options.interface.js';
import { CliError, EXIT, integerOption } from '../cli-errors.js';
import { printJson, printLine } from '../output.js';
import type { QueueSession } from '../queue-session.js';
import { withSession } from '../session-action.js';

interface EnqueueCliOptions {
  json?: boolean;
  queue?: string;
  priority?: string;
  delay?: string;
  id?: string;
  tenant?: string;
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) {
    throw new CliError('give the entity as an argument or on standard input', EXIT.usage);
  }
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** The entity: JSON from the argument, or from standard input when it is absent or `-`. */
async function readEntity(argument: string | undefined): Promise<unknown> {
  const text = argument === undefined || argument === '-' ? await readStdin() : argument;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // The parser's message quotes the text, which may be personal data.
    throw new CliError('the entity is not valid JSON', EXIT.usage);
  }
}

function priorityOf(value: string | undefined): JobPriority | undefined {
  if (value === undefined) return undefined;
  if (!JOB_PRIORITIES.includes(value as JobPriority)) {
    throw new CliError(`--priority must be one of ${JOB_PRIORITIES.join(', ')}`, EXIT.usage);
  }
  return value as JobPriority;
}

async function enqueue(
  session: QueueSession,
  processor: string,
  argument: string | undefined,
  options: EnqueueCliOptions,
): Promise<void> {
  const priority = priorityOf(options.priority);
  const delay =
    options.delay === undefined ? undefined : integerOption('--delay', options.delay, 0);
  const entity = await readEntity(argument);
  // This process runs no processor: declaring the name, as `forRoot({ jobs })` declares a
  // producer-only contract, lets the enqueue check pass; the workers decide whether it runs.
  session.declareProcessor(processor);
  const result = await session.manager.enqueue({
    entity,
    processor,
    ...(options.queue !== undefined && { queueName: options.queue }),
    ...(priority !== undefined && { priority }),
    ...(delay !== undefined && { delay }),
    ...(options.id !== undefined && { operationId: options.id }),
    ...(options.tenant !== undefined && { tenant: options.tenant }),
  });
  if (options.json) return printJson(result);
  const where = `queue ${result.queueName}, priority ${result.priority}`;
  const what = result.created ? 'enqueued' : 'already there';
  printLine(
    `${result.operationId} ${what} (${where}, runs at ${new Date(result.runAt).toISOString()})`,
  );
}

export function registerEnqueueCommand(program: Command): void {
  program
    .command('enqueue')
    .description('enqueue one job; the entity is JSON, from the argument or standard input')
    .argument('<processor>', 'the processor name, as the workers register it')
    .argument('[json]', 'the entity as JSON; absent or "-": read standard input')
    .option('--queue <name>', 'the queue (default: the processor’s)')
    .option('--priority <priority>', JOB_PRIORITIES.join(', '))
    .option('--delay <ms>', 'run no sooner than this many ms from now')
    .option('--id <operationId>', 'the operation id (default: a new one)')
    .option('--tenant <tenant>', 'who the job is for')
    .option('--json', 'print JSON for scripts')
    .action(
      withSession<EnqueueCliOptions>((session, [processor, json], options) =>
        enqueue(session, processor as string, json as string | undefined, options),
      ),
    );
}
