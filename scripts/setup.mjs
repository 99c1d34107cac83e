// Installs what `npm start` and `npm test` need on a fresh machine: npm packages, redis-server.
// Plain Node with built-ins only, because it runs before node_modules exists.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;

function run(command, args) {
  console.log(`[setup] ${command} ${args.join(' ')}`);
  execFileSync(command, args, { cwd: root, stdio: 'inherit' });
}

function packagesAreStale() {
  const marker = join(root, 'node_modules', '.package-lock.json');
  if (!existsSync(marker)) return true;
  return statSync(join(root, 'package-lock.json')).mtimeMs > statSync(marker).mtimeMs;
}

function hasCommand(name) {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

if (packagesAreStale()) {
  run('npm', existsSync(join(root, 'package-lock.json')) ? ['ci'] : ['install']);
}

// redis-server for the tests and the demo; tmux for the terminal test of `nest-queue watch`.
const missing = [
  ['redis-server', 'redis-server'],
  ['tmux', 'tmux'],
].filter(([command]) => !hasCommand(command));
if (missing.length > 0) {
  const sudo = process.getuid?.() === 0 ? [] : ['sudo'];
  const apt = (args) => (sudo.length ? run('sudo', ['apt-get', ...args]) : run('apt-get', args));
  apt(['update', '-qq']);
  apt(['install', '-y', '-qq', '--no-install-recommends', ...missing.map(([, pkg]) => pkg)]);
  const still = missing.filter(([command]) => !hasCommand(command));
  if (still.length > 0) {
    const names = still.map(([command]) => command).join(', ');
    console.error(`[setup] ${names} still missing after apt-get; install and retry.`);
    process.exit(1);
  }
}
