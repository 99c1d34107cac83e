import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI_SOURCE = 'libs/queue-system/src/cli/main.ts';

/**
 * The command line that runs `nest-queue` from its sources, through the loader the suite's
 * other child processes can use; test/package/ runs the built one from its tarball.
 */
export const CLI_COMMAND = ['node', '--import', '@swc-node/register/esm-register', CLI_SOURCE];

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The environment without what would change the CLI's behaviour behind a test's back. */
export function cliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', ...extra };
  delete env['REDIS_URL'];
  delete env['NODE_OPTIONS'];
  return env;
}

/**
 * Runs `nest-queue args` to its end, stdin a pipe given `input` (never a terminal), and
 * returns its exit code and output; killed after `timeoutMs` so that a hang fails the test.
 */
export function runCli(
  args: readonly string[],
  options: { input?: string; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<CliRun> {
  const [command, ...prefix] = CLI_COMMAND;
  return new Promise((resolve, reject) => {
    const child = spawn(command!, [...prefix, ...args], {
      cwd: REPO_ROOT,
      env: cliEnv(options.env),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}
