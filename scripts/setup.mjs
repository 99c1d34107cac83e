// Installs what `npm start` and `npm test` need on a fresh machine: npm packages, redis-server,
// tmux for the terminal test of the CLI, and Debian's chromium for the dashboard's browser test.
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

const sudo = process.getuid?.() === 0 ? [] : ['sudo'];
const apt = (args) => (sudo.length ? run('sudo', ['apt-get', ...args]) : run('apt-get', args));
let aptUpdated = false;

/** Installs a Debian package when its command is missing; exits when apt-get could not. */
function ensurePackage(command, pkg) {
  if (hasCommand(command)) return;
  if (!aptUpdated) apt(['update', '-qq']);
  aptUpdated = true;
  apt(['install', '-y', '-qq', '--no-install-recommends', pkg]);
  if (!hasCommand(command)) {
    console.error(`[setup] ${command} is still missing after apt-get; install ${pkg} and retry.`);
    process.exit(1);
  }
}

ensurePackage('redis-server', 'redis-server');
// test/faults/sentinel-failover.test.ts runs three Sentinels beside a master and its replicas.
ensurePackage('redis-sentinel', 'redis-sentinel');
// The terminal test of `nest-queue watch` runs it in tmux.
ensurePackage('tmux', 'tmux');
// test/dashboard.browser.test.ts drives it through playwright-core, never a downloaded browser.
ensurePackage('chromium', 'chromium');
