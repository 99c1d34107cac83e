import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { INestApplicationContext, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';
import { QueueManager } from '../libs/queue-system/src/index.js';
import { redisUrl, waitFor } from './support/queue-test-app.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Inside the repository, so that 'nest-queue-system' resolves as it does for every test. */
const DIR = join(ROOT, 'test', '.tmp-quick-start');
/** A database of its own on the suite's redis-server: the quick start uses the default prefix. */
const QUICK_START_DB = 7;

/** The README's quick start: every ```ts block whose first line names its file. */
function quickStartFiles(): Map<string, string> {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('\n## Quick start');
  const end = readme.indexOf('\n## ', start + 1);
  expect(start, 'README has a "Quick start" section').toBeGreaterThan(-1);
  const files = new Map<string, string>();
  for (const [, code] of readme.slice(start, end).matchAll(/```ts\n([\s\S]*?)```/g)) {
    const name = /^\/\/ ([\w.-]+\.ts)\b/.exec(code!)?.[1];
    if (name) files.set(name, code!);
  }
  return files;
}

/** Type-checks the files with the repository's compiler options, as `npm test` checks the rest. */
function typeErrors(paths: string[]): string[] {
  const configPath = join(ROOT, 'tsconfig.json');
  const { config } = ts.readConfigFile(configPath, ts.sys.readFile) as { config: unknown };
  const { options } = ts.parseJsonConfigFileContent(config, ts.sys, dirname(configPath));
  const program = ts.createProgram(paths, { ...options, noEmit: true });
  return ts
    .getPreEmitDiagnostics(program)
    .filter((d) => d.file === undefined || paths.includes(d.file.fileName))
    .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
}

describe('README quick start', () => {
  let app: INestApplicationContext | undefined;

  afterAll(async () => {
    await app?.close();
    rmSync(DIR, { recursive: true, force: true });
  });

  it('compiles, boots as written, and runs the job it enqueues to completion', async () => {
    const files = quickStartFiles();
    expect([...files.keys()]).toEqual(expect.arrayContaining(['app.module.ts', 'main.ts']));
    rmSync(DIR, { recursive: true, force: true });
    mkdirSync(DIR, { recursive: true });
    const paths = [...files].map(([name, code]) => {
      const path = join(DIR, name);
      writeFileSync(path, code);
      return path;
    });
    expect(typeErrors(paths).join('\n')).toBe('');

    // main.ts shows how to enqueue: `app.get(Service).method('literal')`; do the same.
    const call = /app\.get\((\w+)\)\.(\w+)\('([^']*)'\)/.exec(files.get('main.ts')!);
    expect(call, 'main.ts enqueues through a service').not.toBeNull();
    const [, serviceName, methodName, argument] = call!;
    const serviceFile = [...files].find(([, code]) => code.includes(`class ${serviceName} `));
    expect(serviceFile, `a quick-start file declares ${serviceName}`).toBeDefined();

    process.env.REDIS_URL = `${redisUrl()}/${QUICK_START_DB}`;
    const { AppModule } = (await import(join(DIR, 'app.module.ts'))) as { AppModule: Type };
    const serviceModule = (await import(join(DIR, serviceFile![0]))) as Record<string, Type>;
    app = await NestFactory.createApplicationContext(AppModule, { logger: ['error'] });
    app.enableShutdownHooks();

    const service = app.get(serviceModule[serviceName!]!) as Record<string, unknown>;
    const enqueue = service[methodName!] as (arg: string) => Promise<string>;
    const operationId = await enqueue.call(service, argument!);
    expect(operationId).toEqual(expect.any(String));

    const queue = app.get(QueueManager);
    await waitFor(
      async () => (await queue.getJob(operationId))?.state === 'completed',
      `job ${operationId} of the quick start to complete`,
    );
    expect((await queue.getJob(operationId))?.attempts).toBe(1);
  });
});
