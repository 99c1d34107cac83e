// Runs the demo app from the repository root: its TypeScript is compiled on the fly by SWC,
// and it imports `nest-queue-system` as an app would, from node_modules: the built package
// (`npm start` builds it first). Plain Node with built-ins only, like setup.mjs.
import { spawn } from 'node:child_process';
import { constants } from 'node:os';

const root = new URL('..', import.meta.url).pathname;
const DEMO_TSCONFIG = 'apps/demo/tsconfig.app.json';
const child = spawn(
  process.execPath,
  ['--import', '@swc-node/register/esm-register', 'apps/demo/src/main.ts'],
  // The demo's tsconfig has no `paths`, so SWC leaves the package to Node's resolution.
  { cwd: root, stdio: 'inherit', env: { ...process.env, SWC_NODE_PROJECT: DEMO_TSCONFIG } },
);

// The app drains its queue worker on these signals, so it must get them rather than die with us.
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => child.kill(signal));
}

child.on('error', (error) => {
  console.error(`[start-demo] could not start the demo: ${error.message}`);
  process.exit(1);
});

child.on('exit', (code, signal) => {
  // A child ended by a signal exits 128 + its number, as a shell would report it.
  process.exit(code ?? 128 + (constants.signals[signal] ?? 0));
});
