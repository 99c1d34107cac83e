import { fileURLToPath } from 'node:url';
import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

const LIBRARY = fileURLToPath(new URL('./libs/queue-system/src', import.meta.url));

export default defineConfig({
  // SWC keeps decorator metadata, which Nest's constructor injection needs; esbuild drops it.
  plugins: [swc.vite({ module: { type: 'es6' } })],
  // The suite runs the library from its sources, as tsconfig.json's `paths` type-checks them;
  // test/package/ is where the built package is tried, from outside the repository.
  resolve: {
    alias: [
      { find: /^nest-queue-system$/, replacement: `${LIBRARY}/index.ts` },
      { find: /^nest-queue-system\/([\w-]+)$/, replacement: `${LIBRARY}/$1/index.ts` },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],

    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default', './test/support/summary-reporter.ts'],
  },
});
