import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedRedis, findFreePort } from '../libs/embedded-redis/src/embedded-redis.js';
import { sleep } from './support/queue-test-app.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CONNECTION_TIMEOUT_MS = 1000;
// Redis asks for it, so the demo's REDIS_URL carries a password that its output must not show.
const REDIS_PASSWORD = 'demo-e2e-secret';

interface HealthBody {
  status: string;
  error: Record<string, { status: string; message?: string }>;
  details: { queue: { status: string; workerRunning?: boolean; message?: string } };
}

interface JobBody {
  state: string;
  priority: string;
  result?: Record<string, unknown>;
}

interface StatusBody {
  total_items: number;
  metrics: { enqueued: number };
}

/**
 * The demo app as `npm start` runs it, in a child process, against a redis-server this file
 * owns, so that it can kill Redis under the running app and bring it back.
 */
describe('demo app (child process, real HTTP)', () => {
  let dataDir: string;
  let redisPort: number;
  let redis: EmbeddedRedis;
  let child: ChildProcess;
  let baseUrl: string;
  let output = '';

  function startRedis(): Promise<EmbeddedRedis> {
    const extraArgs = ['--requirepass', REDIS_PASSWORD];
    return new EmbeddedRedis({ dataDir, port: redisPort, extraArgs }).start();
  }

  async function request(path: string, init: RequestInit = {}) {
    const response = await fetch(`${baseUrl}${path}`, {
      ...init,
      headers: { 'content-type': 'application/json' },
      signal: AbortSignal.timeout(10_000),
    });
    return { status: response.status, body: (await response.json()) as unknown };
  }

  function postOrder(order: unknown) {
    return request('/orders', { method: 'POST', body: JSON.stringify(order) });
  }

  /** Polls until `check` passes; the failure carries the app's output, which says why. */
  async function eventually<T>(
    what: string,
    timeoutMs: number,
    check: () => Promise<T | undefined>,
  ) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`Demo exited (${child.exitCode}):\n${output}`);
      const value = await check().catch(() => undefined);
      if (value !== undefined) return value;
      if (Date.now() > deadline) {
        throw new Error(
          `Timed out after ${timeoutMs} ms waiting for ${what}. Demo output:\n${output}`,
        );
      }
      await sleep(50);
    }
  }

  async function completedJob(id: string): Promise<JobBody> {
    return eventually(`job ${id} to complete`, 10_000, async () => {
      const { status, body } = await request(`/jobs/${id}`);
      const job = body as JobBody;
      return status === 200 && job.state === 'completed' ? job : undefined;
    });
  }

  beforeAll(async () => {
    // The demo imports the built package from node_modules, as `npm start` builds and runs it.
    execFileSync(process.execPath, ['scripts/build-package.mjs', '--if-stale'], { cwd: ROOT });
    dataDir = mkdtempSync(join(tmpdir(), 'nqs-demo-e2e-'));
    redisPort = await findFreePort();
    redis = await startRedis();
    const appPort = await findFreePort();
    baseUrl = `http://127.0.0.1:${appPort}`;

    const { NODE_OPTIONS: _vitestHooks, ...env } = process.env;
    child = spawn(
      process.execPath,
      ['--import', '@swc-node/register/esm-register', 'apps/demo/src/main.ts'],
      {
        cwd: ROOT,
        env: {
          ...env,
          PORT: String(appPort),
          REDIS_URL: redis.url.replace('redis://', `redis://:${REDIS_PASSWORD}@`),
          QUEUE_CONNECTION_TIMEOUT_MS: String(CONNECTION_TIMEOUT_MS),
          NO_COLOR: '1',
          SWC_NODE_PROJECT: 'apps/demo/tsconfig.app.json',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));

    await eventually('the demo to serve /health', 30_000, async () => {
      const { status } = await request('/health');
      return status === 200 ? true : undefined;
    });
  });

  afterAll(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(killer);
    }
    await redis?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('accepts an order and completes its confirmation email and its invoice', async () => {
    const order = {
      customerEmail: 'ada@example.com',
      items: [
        { sku: 'BOOK-42', quantity: 2, unitPrice: 19.99 },
        { sku: 'PEN-BLUE', quantity: 3, unitPrice: 0.1 },
      ],
    };
    const { status, body } = await postOrder(order);
    expect(status).toBe(202);
    const { orderId, emailJobId, invoiceJobId } = body as Record<string, string>;
    expect(typeof orderId).toBe('string');
    expect(emailJobId).not.toBe(invoiceJobId);

    const email = await completedJob(emailJobId!);
    expect(email.priority).toBe('high');
    expect(email.result).toMatchObject({ recipient: 'ada@example.com' });

    const invoice = await completedJob(invoiceJobId!);
    expect(invoice.priority).toBe('normal');
    const expectedTotal = order.items.reduce((sum, i) => sum + i.quantity * i.unitPrice, 0);
    expect(invoice.result?.total).toBeCloseTo(expectedTotal, 2);
    expect(invoice.result).toMatchObject({ orderId });
    expect(invoice.result?.text).toContain('Total:      40.28');

    // The PDF is rendered in the worker-thread pool and served as a real PDF document.
    const { pdfJobId } = body as Record<string, string>;
    const pdfJob = await completedJob(pdfJobId!);
    expect(pdfJob.priority).toBe('low');
    const pdf = await fetch(`${baseUrl}/jobs/${pdfJobId}/pdf`);
    expect(pdf.status).toBe(200);
    expect(pdf.headers.get('content-type')).toBe('application/pdf');
    const bytes = Buffer.from(await pdf.arrayBuffer()).toString('latin1');
    expect(bytes.startsWith('%PDF-1.4')).toBe(true);
    expect(bytes).toContain('Total: 40.28');
    expect(bytes.trimEnd().endsWith('%%EOF')).toBe(true);
  });

  it('rejects a bad order with 400 and enqueues nothing', async () => {
    const before = (await request('/queues/status')).body as StatusBody;

    const bad = await postOrder({
      customerEmail: 'not-an-email',
      items: [{ sku: '', quantity: 0 }],
    });
    const empty = await postOrder({ customerEmail: 'bob@example.com', items: [] });

    expect(bad.status).toBe(400);
    expect((bad.body as { message: string[] }).message).toEqual(
      expect.arrayContaining([
        'customerEmail must be an email address',
        'items[0].quantity must be a positive integer',
      ]),
    );
    expect(empty.status).toBe(400);
    const after = (await request('/queues/status')).body as StatusBody;
    expect(after.metrics.enqueued).toBe(before.metrics.enqueued);
    expect(after.total_items).toBe(before.total_items);
    expect((await request('/jobs/no-such-job')).status).toBe(404);
  });

  it('reports the queue healthy on GET /health', async () => {
    const { status, body } = await request('/health');
    const health = body as HealthBody;

    expect(status).toBe(200);
    expect(health.status).toBe('ok');
    expect(health.details.queue).toMatchObject({
      status: 'up',
      workerRunning: true,
      waiting: 0,
      failures: 0,
      systemErrors: 0,
    });
  });

  it('serves the queue metrics on GET /metrics in the Prometheus text format', async () => {
    const response = await fetch(`${baseUrl}/metrics`, { signal: AbortSignal.timeout(10_000) });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = await response.text();
    // The first test's order ran three jobs through this process: counted, timed, and gauged.
    expect(text).toMatch(/^nest_queue_jobs_completed_total\{[^}]*processor="[^"]+"[^}]*\} [1-9]/m);
    expect(text).toMatch(
      /^nest_queue_job_run_seconds_count\{[^}]*outcome="completed"[^}]*\} [1-9]/m,
    );
    expect(text).toContain('# TYPE nest_queue_jobs_waiting gauge');
    expect(text).toContain('nest_queue_state_up{namespace="default"} 1');
    expect(text).toMatch(/^nest_queue_worker_slots\{namespace="default"\} [1-9]/m);
  });

  it('serves the dashboard at /queues/ui to the demo credentials only', async () => {
    const signal = AbortSignal.timeout(10_000);
    expect((await fetch(`${baseUrl}/queues/ui`, { signal })).status).toBe(401);
    const authorization = `Basic ${Buffer.from('admin:demo-only').toString('base64')}`;
    const page = await fetch(`${baseUrl}/queues/ui`, { headers: { authorization }, signal });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<script type="module" src="assets/app.js"></script>');
    const overview = await fetch(`${baseUrl}/queues/ui/api/overview`, {
      headers: { authorization },
      signal,
    });
    expect(((await overview.json()) as { namespace: string }).namespace).toBe('default');
  });

  it('answers 503 within the connection timeout while Redis is down, and 200 once it is back', async () => {
    await redis.kill();

    const started = Date.now();
    const down = await request('/health');
    const elapsed = Date.now() - started;
    expect(down.status).toBe(503);
    const health = down.body as HealthBody;
    expect(health.status).toBe('error');
    expect(health.error.queue?.status).toBe('down');
    expect(health.details.queue.message).toBeTruthy();
    // Bounded by the connection timeout, not left to the request's own 10 s abort; the rest
    // of the ceiling is room for a loaded machine.
    expect(elapsed).toBeLessThan(CONNECTION_TIMEOUT_MS + 4_000);

    redis = await startRedis();
    const recoveredAt = Date.now();
    await eventually('/health to answer 200 again', 15_000, async () => {
      const { status } = await request('/health');
      return status === 200 ? true : undefined;
    });
    expect(Date.now() - recoveredAt).toBeLessThan(15_000);

    // Recovery means work flows again, not only that PING answers.
    const { body } = await postOrder({
      customerEmail: 'back@example.com',
      items: [{ sku: 'MUG', quantity: 1, unitPrice: 12.5 }],
    });
    const invoice = await completedJob((body as Record<string, string>).invoiceJobId!);
    expect(invoice.result?.total).toBe(12.5);
  });

  it('logs where its Redis is without the password, through start-up and an outage', () => {
    expect(output).toContain(`Queue Redis: redis://:****@127.0.0.1:${redisPort}`);
    expect(output).not.toContain(REDIS_PASSWORD);
  });
});
