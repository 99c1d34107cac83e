import { Command, Option } from 'commander';
import { LIBRARY_VERSION } from '../version.js';
import { registerAdminCommands } from './commands/admin-commands.js';
import { registerJobCommands } from './commands/job-commands.js';
import { registerReadCommands } from './commands/read-commands.js';
import { registerWatchCommand } from './commands/watch-command.js';

export function buildProgram(): Command {
  const program = new Command('nest-queue')
    .description('Inspect and operate the queues of nest-queue-system from a terminal.')
    .version(LIBRARY_VERSION)
    .addOption(
      new Option('--redis <url>', 'Redis URL (password masked in every message)').env('REDIS_URL'),
    )
    .option('-n, --namespace <name>', 'the namespace (redis.namespace)', 'default')
    .option('--prefix <prefix>', 'the key prefix (redis.keyPrefix)', 'queue:')
    .option('--shards <n>', 'the shards of the namespace (redis.shards)', '1')
    .option('--timeout <ms>', 'give up on Redis after this long', '3000')
    .showHelpAfterError('(run with --help for usage)');
  registerReadCommands(program);
  registerJobCommands(program);
  registerAdminCommands(program);
  registerWatchCommand(program);
  return program;
}
