import { fileURLToPath } from 'node:url';
import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // SWC keeps decorator metadata, which Nest's constructor injection needs; esbuild drops it.
  plugins: [swc.vite({ module: { type: 'es6' } })],
  resolve: {
    alias: {
      // Before the package's own entry, which would otherwise take this path as its prefix.
      'nest-queue-system/testing': fileURLToPath(
        new URL('./libs/queue-system/src/testing/index.ts', import.meta.url),
      ),
      'nest-queue-system': fileURLToPath(
        new URL('./libs/queue-system/src/index.ts', import.meta.url),
      ),
    },
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
