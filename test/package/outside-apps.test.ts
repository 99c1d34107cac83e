import { spawn } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedRedis } from '../../libs/embedded-redis/src/embedded-redis.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const FIXTURES = fileURLToPath(new URL('./fixtures', import.meta.url));
/** The repository's own tsc: only for the library's sources; each app has its own. */
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
/** npm installs from the registry (or its cache): generous, as a slow mirror is no bug of ours. */
const INSTALL_TIMEOUT_MS = 3 * 60_000;
const STEP_TIMEOUT_MS = 2 * 60_000;
/** An app that has closed must end by itself well within this. */
const RUN_TIMEOUT_MS = 60_000;

/**
 * Each app as a user would have it: its own package.json (with its Nest and TypeScript
 * versions) and tsconfig.json from fixtures/<name>/, and its sources: fixtures/app/, an HTTP
 * app with a contract, an interceptor, the health and metrics entries, or one of its own. Each
 * uses a Redis database of its own.
 */
const HTTP_APP = {
  'src/main.ts': 'app/main.ts',
  'src/greeting.ts': 'app/greeting.ts',
  'src/double.thread.ts': 'app/double.thread.ts',
};
const APPS = [
  { name: 'esm-nest12', what: 'Nest 12, ES modules, module nodenext', database: 1 },
  { name: 'cjs-nest11', what: 'Nest 11, CommonJS as `nest new` makes it', database: 2 },
  { name: 'cjs-classic', what: 'Nest 11, CommonJS, moduleResolution node', database: 3 },
] as const;
const SOURCES: Record<string, Record<string, string>> = {
  'esm-nest12': HTTP_APP,
  // With the Jest spec that `nest new` apps keep beside their code.
  'cjs-nest11': { ...HTTP_APP, 'src/greeting.spec.ts': 'cjs-nest11/greeting.spec.ts' },
  'cjs-classic': HTTP_APP,
  'esm-no-terminus': { 'src/main.ts': 'esm-no-terminus/main.ts' },
};
const WITHOUT_TERMINUS = { name: 'esm-no-terminus', database: 4 };
const ALL_APPS = [...APPS, WITHOUT_TERMINUS];

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/**
 * The environment of the child processes, without what Vitest and `npm test` add to ours: an
 * npm run from here must take the app's folder, not this repository, as its project.
 */
const NOT_FOR_CHILDREN =
  /^(NODE_OPTIONS|npm_config_local_prefix|npm_package_\w+|npm_lifecycle_\w+)$/;
function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !NOT_FOR_CHILDREN.test(key)),
  );
  return { ...env, NO_COLOR: '1', ...extra };
}

function run(
  command: string,
  args: string[],
  options: { cwd: string; timeoutMs: number; env?: NodeJS.ProcessEnv },
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? childEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
  });
}

function describeRun(what: string, result: Run): string {
  const ending = result.timedOut
    ? 'did not end by itself within its time limit and was killed'
    : `exited ${result.code}`;
  return `${what} ${ending}\n--- stdout\n${result.stdout.slice(-4000)}\n--- stderr\n${result.stderr.slice(-4000)}`;
}

/** The result of a process that exited 0; otherwise throws with its output. */
function succeeded(what: string, result: Run): Run {
  if (result.code !== 0 || result.timedOut) throw new Error(describeRun(what, result));
  return result;
}

/** Whether the registry answers; when it does not, installs come from npm's cache alone. */
async function registryAnswers(cwd: string): Promise<boolean> {
  const args = ['ping', '--fetch-retries=0', '--fetch-timeout=15000'];
  const ping = await run('npm', args, { cwd, timeoutMs: 20_000 });
  return ping.code === 0 && !ping.timedOut;
}

/** Installs an app's packages; returns what went wrong, if anything. */
async function install(dir: string, online: boolean): Promise<string | undefined> {
  const args = ['install', online ? '--prefer-offline' : '--offline', '--no-audit', '--no-fund'];
  const result = await run('npm', args, { cwd: dir, timeoutMs: INSTALL_TIMEOUT_MS });
  if (result.code === 0 && !result.timedOut) return undefined;
  const unreachable = online ? '' : 'The npm registry did not answer `npm ping`, and ';
  return `${unreachable}${describeRun(`npm ${args.join(' ')} in ${dir}`, result)}`;
}

/** The files under `dir`, as paths relative to it. */
function filesIn(dir: string, under = dir): string[] {
  return readdirSync(under, { withFileTypes: true }).flatMap((entry) => {
    const path = join(under, entry.name);
    return entry.isDirectory() ? filesIn(dir, path) : [relative(dir, path)];
  });
}

describe('nest-queue-system packed and installed in apps outside the repository', () => {
  let work: string;
  let tarball: string;
  let redis: EmbeddedRedis | undefined;
  const installs = new Map<string, Promise<string | undefined>>();

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'nqs-package-'));
    if (!relative(ROOT, work).startsWith('..')) throw new Error(`${work} is inside the repository`);

    const packed = await run('npm', ['run', '--silent', 'package'], {
      cwd: ROOT,
      timeoutMs: STEP_TIMEOUT_MS,
    });
    tarball = succeeded('npm run package', packed).stdout.trim().split('\n').at(-1)!;
    if (!isAbsolute(tarball) || !existsSync(tarball)) {
      throw new Error(`npm run package printed "${tarball}" last, not a tarball's absolute path`);
    }

    const online = await registryAnswers(work);
    for (const app of ALL_APPS) {
      const dir = join(work, app.name);
      mkdirSync(join(dir, 'src'), { recursive: true });
      cpSync(join(FIXTURES, app.name, 'tsconfig.json'), join(dir, 'tsconfig.json'));
      for (const [target, source] of Object.entries(SOURCES[app.name]!)) {
        cpSync(join(FIXTURES, source), join(dir, target));
      }
      const manifest = JSON.parse(readFileSync(join(FIXTURES, app.name, 'package.json'), 'utf8'));
      manifest.dependencies['nest-queue-system'] = `file:${tarball}`;
      writeFileSync(join(dir, 'package.json'), JSON.stringify(manifest, null, 2));
      // In parallel: the installs wait on the network and the disk far more than on the CPU.
      installs.set(app.name, install(dir, online));
    }
    await Promise.all(installs.values());
    redis = await new EmbeddedRedis({ dataDir: join(work, 'redis') }).start();
  }, 6 * 60_000);

  afterAll(async () => {
    await redis?.kill();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('holds the built library and its run-time files, and no tests, bench or demo', async () => {
    const extracted = join(work, 'tarball');
    mkdirSync(extracted);
    const untar = await run('tar', ['-xzf', tarball, '-C', extracted], {
      cwd: work,
      timeoutMs: STEP_TIMEOUT_MS,
    });
    succeeded('tar', untar);
    const pkg = join(extracted, 'package');
    const files = filesIn(pkg);

    expect(files).toEqual(
      expect.arrayContaining([
        'package.json',
        'dist/index.js',
        'dist/index.d.ts',
        'dist/index.js.map',
        'dist/health/index.js',
        'dist/health/index.d.ts',
        'dist/dashboard/index.js',
        'dist/dashboard/index.d.ts',
        'dist/dashboard/assets/index.html',
        'dist/dashboard/assets/app.js',
        'dist/dashboard/assets/style.css',
        'dist/metrics/index.js',
        'dist/metrics/index.d.ts',
        'dist/threads/thread-runner.mjs',
        'dist/cli/main.js',
        'dist/redis/lua/fetch-6.lua',
        'dist/redis/lua/includes/lease-jobs.lua',
        // The CommonJS build, for `require` and the classic `main` / `types`.
        'dist/cjs/package.json',
        'dist/cjs/index.js',
        'dist/cjs/index.d.ts',
        'dist/cjs/library-root.js',
        'dist/cjs/testing/index.js',
        'dist/cjs/testing/index.d.ts',
        'dist/cjs/health/index.d.ts',
      ]),
    );
    // One copy of the run-time files, shared by both builds.
    expect(
      files.filter((f) => f.startsWith('dist/cjs/') && !/\.(js|d\.ts|js\.map)$/.test(f)),
    ).toEqual(['dist/cjs/package.json']);
    const manifest = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')) as {
      main: string;
      types: string;
      exports: Record<string, { import?: { types: string }; require?: { types: string } }>;
    };
    expect([manifest.main, manifest.types]).toEqual([
      './dist/cjs/index.js',
      './dist/cjs/index.d.ts',
    ]);
    const declared = Object.entries(manifest.exports)
      .filter(([entry]) => entry !== './package.json')
      .flatMap(([, conditions]) => [conditions.import!.types, conditions.require!.types]);
    expect(declared).toHaveLength(10);
    expect(declared.filter((types) => !existsSync(join(pkg, types)))).toEqual([]);
    const sourceLua = filesIn(join(ROOT, 'libs', 'queue-system', 'src')).filter((f) =>
      f.endsWith('.lua'),
    );
    expect(files.filter((f) => f.endsWith('.lua')).sort()).toEqual(
      sourceLua.map((f) => `dist/${f}`).sort(),
    );
    expect(files.filter((f) => !f.startsWith('dist/') && !f.startsWith('docs/')).sort()).toEqual([
      'CHANGELOG.md',
      'LICENSE',
      'README.md',
      'package.json',
    ]);
    // The README as npm shows it: every relative link names a file of the tarball.
    const readme = readFileSync(join(pkg, 'README.md'), 'utf8');
    const links = [...readme.matchAll(/\]\(([^)\s]+)\)/g)]
      .map(([, target]) => target!.split('#')[0]!)
      .filter((target) => target !== '' && !/^[a-z]+:/i.test(target));
    expect(links).toEqual(expect.arrayContaining(['docs/api.md', 'docs/images/dashboard.png']));
    expect(links.filter((target) => !existsSync(join(pkg, target)))).toEqual([]);
    expect(
      files.filter((f) =>
        /(^|\/)(test|tests|bench|apps|demo)\/|\.test\.|\.ts$/.test(f.replace(/\.d\.ts$/, '')),
      ),
    ).toEqual([]);

    // Everything the library loads at run time is in the package, under dist/, for both builds.
    const loaded = files
      .filter((f) => /\.m?js$/.test(f))
      .flatMap((f) =>
        [...readFileSync(join(pkg, f), 'utf8').matchAll(/libraryFile\)?\('([^']+)'\)/g)].map(
          ([, path]) => `dist/${path!.replace(/\/$/, '')}`,
        ),
      );
    expect(loaded).toEqual(
      expect.arrayContaining(['dist/redis/lua', 'dist/threads/thread-runner.mjs']),
    );
    expect(loaded.filter((path) => !existsSync(join(pkg, path)))).toEqual([]);

    // The optional peer @nestjs/terminus is loaded by the `health` entry only.
    const loads = (name: string) =>
      files.filter(
        (f) =>
          /\.m?js$/.test(f) &&
          new RegExp(`(from |require\\()['"]${name}['"]`).test(readFileSync(join(pkg, f), 'utf8')),
      );
    const loadsTerminus = loads('@nestjs/terminus');
    expect(loadsTerminus).toEqual(
      expect.arrayContaining(['dist/health/queue.health.js', 'dist/cjs/health/queue.health.js']),
    );
    expect(loadsTerminus.filter((f) => !/^dist\/(cjs\/)?health\//.test(f))).toEqual([]);
    // And the optional peer prom-client by the `metrics` entry only.
    const loadsPromClient = loads('prom-client');
    expect(loadsPromClient).toEqual(
      expect.arrayContaining([
        'dist/metrics/state-metrics.js',
        'dist/cjs/metrics/state-metrics.js',
      ]),
    );
    expect(loadsPromClient.filter((f) => !/^dist\/(cjs\/)?metrics\//.test(f))).toEqual([]);

    // The optional peer @opentelemetry/api is imported by one module, at boot, only with tracing on.
    const loadsOtel = files.filter(
      (f) =>
        /\.m?js$/.test(f) && readFileSync(join(pkg, f), 'utf8').includes("'@opentelemetry/api'"),
    );
    expect(loadsOtel.sort()).toEqual([
      'dist/cjs/tracing/queue-tracing.js',
      'dist/tracing/queue-tracing.js',
    ]);
    const tracingModule = readFileSync(join(pkg, 'dist/tracing/queue-tracing.js'), 'utf8');
    expect(tracingModule).not.toMatch(/^import[^;]*'@opentelemetry\/api'/m);
    expect(tracingModule).toContain("await import('@opentelemetry/api')");
    const cjsTracing = readFileSync(join(pkg, 'dist/cjs/tracing/queue-tracing.js'), 'utf8');
    expect(cjsTracing).not.toMatch(/^\S[^\n]*require\('@opentelemetry\/api'\)/m);
    expect(cjsTracing).toMatch(
      /await Promise\.resolve\(\)\.then\(\(\) => [^\n]*require\('@opentelemetry\/api'\)/,
    );
  });

  /** Compiles the app with plain tsc, runs it, and returns the JSON line it printed last. */
  async function compileAndRun(name: string, database: number): Promise<Record<string, unknown>> {
    const dir = join(work, name);
    const installError = await installs.get(name);
    if (installError) throw new Error(installError);

    // The app's own TypeScript, the version its package.json pins, not the repository's.
    const ownTsc = join(dir, 'node_modules', 'typescript', 'bin', 'tsc');
    const compiled = await run(process.execPath, [ownTsc, '-p', dir], {
      cwd: dir,
      timeoutMs: STEP_TIMEOUT_MS,
    });
    succeeded(`tsc -p ${name}`, compiled);

    const env = childEnv({ REDIS_URL: `${redis!.url}/${database}` });
    const ran = await run(process.execPath, ['dist/main.js'], {
      cwd: dir,
      env,
      timeoutMs: RUN_TIMEOUT_MS,
    });
    // No process.exit in the app: ending on its own means app.close() left no open handle.
    succeeded(`node dist/main.js (${name})`, ran);
    return JSON.parse(ran.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
  }

  it.each(APPS)(
    '$name ($what): compiles with tsc, processes a job with its callback, is healthy, exits by itself',
    async ({ name, database }) => {
      const observed = await compileAndRun(name, database);
      expect(observed).toEqual({
        refused: 'JobSchemaError',
        operationId: expect.any(String),
        intercepted: { type: 'queue', entity: { name: 'Ada' } },
        processedAttempt: 1,
        onSuccess: { operationId: observed.operationId, result: { text: 'hello Ada' } },
        job: { state: 'completed', text: 'hello Ada' },
        thread: 42,
        health: {
          status: 200,
          body: expect.objectContaining({
            status: 'ok',
            details: { queue: expect.objectContaining({ status: 'up', workerRunning: true }) },
          }),
        },
        completedMetric: '1',
      });
    },
    STEP_TIMEOUT_MS * 2,
  );

  it(
    'cjs-nest11: its Jest spec (ts-jest) runs a contract job with the testing kit and leaves no open handle',
    async () => {
      const dir = join(work, 'cjs-nest11');
      const installError = await installs.get('cjs-nest11');
      if (installError) throw new Error(installError);
      const jest = join(dir, 'node_modules', 'jest', 'bin', 'jest.js');
      // No --forceExit: Jest must end on its own, so a handle left open fails the run.
      const ran = await run(process.execPath, [jest, '--detectOpenHandles', '--ci'], {
        cwd: dir,
        timeoutMs: RUN_TIMEOUT_MS * 2,
      });
      const output = `${ran.stdout}\n${ran.stderr}`;
      succeeded('jest --detectOpenHandles (cjs-nest11)', ran);
      expect(output).toMatch(/Tests:\s+1 passed, 1 total/);
      expect(output).not.toMatch(/open handle|did not exit|Must use import/i);
    },
    STEP_TIMEOUT_MS * 2,
  );

  it.each(APPS)('$name compiles with the TypeScript version it pins', ({ name }) => {
    const pinned = (
      JSON.parse(readFileSync(join(FIXTURES, name, 'package.json'), 'utf8')) as {
        devDependencies: { typescript: string };
      }
    ).devDependencies.typescript.replace(/^~/, '');
    const installed = (
      JSON.parse(
        readFileSync(join(work, name, 'node_modules', 'typescript', 'package.json'), 'utf8'),
      ) as { version: string }
    ).version;
    expect(installed.split('.').slice(0, 2)).toEqual(pinned.split('.').slice(0, 2));
  });

  it.each(APPS)(
    "$name: the README's quick start compiles as written, with the app's own tsc",
    async ({ name }) => {
      const dir = join(work, name);
      const installError = await installs.get(name);
      if (installError) throw new Error(installError);
      const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
      const start = readme.indexOf('\n## Quick start');
      const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
      const blocks = [...section.matchAll(/```ts\n(\/\/ ([\w.-]+\.ts)\b[\s\S]*?)```/g)];
      expect(blocks.map(([, , file]) => file)).toEqual(
        expect.arrayContaining(['welcome.job.ts', 'app.module.ts', 'main.ts']),
      );
      mkdirSync(join(dir, 'readme'), { recursive: true });
      for (const [, code, file] of blocks) writeFileSync(join(dir, 'readme', file!), code!);
      const config = {
        extends: './tsconfig.json',
        compilerOptions: { noEmit: true, incremental: false, rootDir: '.' },
        include: ['readme'],
      };
      writeFileSync(join(dir, 'tsconfig.readme.json'), JSON.stringify(config));
      const ownTsc = join(dir, 'node_modules', 'typescript', 'bin', 'tsc');
      const checked = await run(process.execPath, [ownTsc, '-p', 'tsconfig.readme.json'], {
        cwd: dir,
        timeoutMs: STEP_TIMEOUT_MS,
      });
      succeeded(`tsc on the README quick start (${name})`, checked);
    },
    STEP_TIMEOUT_MS,
  );

  it(
    'runs the nest-queue command with npx, from the installed tarball',
    async () => {
      const dir = join(work, 'esm-nest12');
      const installError = await installs.get('esm-nest12');
      if (installError) throw new Error(installError);
      const env = childEnv({ REDIS_URL: `${redis!.url}/5` });
      const npx = (...args: string[]) =>
        run('npx', ['--no-install', 'nest-queue', ...args], {
          cwd: dir,
          env,
          timeoutMs: RUN_TIMEOUT_MS,
        });
      const enqueued = succeeded(
        'nest-queue enqueue',
        await npx('enqueue', 'mail.send', '{"to":"ada"}', '--json'),
      );
      const { operationId } = JSON.parse(enqueued.stdout) as { operationId: string };
      const listed = succeeded('nest-queue list', await npx('list', 'waiting', '--json'));
      expect(JSON.parse(listed.stdout)).toMatchObject({
        state: 'waiting',
        jobs: [{ operationId, processor: 'mail.send', queueName: 'mail.send' }],
      });
      const missing = await npx('job', 'no-such-job');
      expect(missing.code).toBe(2);
    },
    STEP_TIMEOUT_MS * 2,
  );

  it(
    "type-checks the library's sources against Nest 11 and terminus 11",
    async () => {
      // The sources are built against Nest 12; the Nest 11 app's node_modules has 11 of each.
      const dir = join(work, 'cjs-nest11');
      const installError = await installs.get('cjs-nest11');
      if (installError) throw new Error(installError);
      // Without cli/: it is no Nest code, and its types need @types/cli-progress, which only
      // the repository installs (the built .d.ts files do not refer to it).
      const cli = join(ROOT, 'libs', 'queue-system', 'src', 'cli');
      cpSync(join(ROOT, 'libs', 'queue-system', 'src'), join(dir, 'library', 'src'), {
        recursive: true,
        filter: (source) => !source.startsWith(cli),
      });
      writeFileSync(join(dir, 'library', 'package.json'), JSON.stringify({ type: 'module' }));
      const { compilerOptions } = JSON.parse(readFileSync(join(ROOT, 'tsconfig.json'), 'utf8')) as {
        compilerOptions: Record<string, unknown>;
      };
      const { paths: _paths, baseUrl: _baseUrl, outDir: _outDir, ...options } = compilerOptions;
      const config = { compilerOptions: { ...options, noEmit: true }, include: ['src'] };
      writeFileSync(join(dir, 'library', 'tsconfig.json'), JSON.stringify(config));
      const checked = await run(process.execPath, [TSC, '-p', join(dir, 'library')], {
        cwd: dir,
        timeoutMs: STEP_TIMEOUT_MS,
      });
      succeeded('tsc on the library sources with Nest 11', checked);
      const nest = JSON.parse(
        readFileSync(join(dir, 'node_modules', '@nestjs', 'common', 'package.json'), 'utf8'),
      ) as { version: string };
      expect(nest.version).toMatch(/^11\./);
    },
    STEP_TIMEOUT_MS * 2,
  );

  it(
    'runs in an app without the optional peers @nestjs/terminus and @opentelemetry/api',
    async () => {
      const { name, database } = WITHOUT_TERMINUS;
      expect(existsSync(join(work, name, 'node_modules', '@nestjs', 'terminus'))).toBe(false);
      expect(existsSync(join(work, name, 'node_modules', '@opentelemetry', 'api'))).toBe(false);
      expect(await compileAndRun(name, database)).toEqual({
        job: { state: 'completed', result: 'hi' },
      });
    },
    STEP_TIMEOUT_MS * 2,
  );
});
