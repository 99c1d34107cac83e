import { Injectable, Module, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { afterEach, describe, expect, it } from 'vitest';
import { QueueConfigError } from '../libs/queue-system/src/index.js';
import { QueueDashboardModule } from '../libs/queue-system/src/dashboard/index.js';
import {
  basicAuth,
  createDashboardApp,
  deadLetter,
  PASSWORD,
  USER,
  type DashboardApp,
} from './support/dashboard-app.js';
import { waitFor } from './support/queue-test-app.js';
import type { DashboardReader } from '../libs/queue-system/src/dashboard/dashboard-reader.js';

type Overview = Awaited<ReturnType<DashboardReader['overview']>>;
type DeadLetters = Awaited<ReturnType<DashboardReader['deadLetters']>>;
type Job = NonNullable<Awaited<ReturnType<DashboardReader['job']>>>;

async function json<T>(response: Response | Promise<Response>): Promise<T> {
  return (await response).json() as Promise<T>;
}

/** The page's token and cookie, as a browser holds them after opening it. */
async function openPage(t: DashboardApp) {
  const page = await fetch(t.url, { headers: { authorization: basicAuth() } });
  const html = await page.text();
  const token = /name="csrf-token" content="([0-9a-f]+)"/.exec(html)?.[1];
  const cookie = page.headers.get('set-cookie')?.split(';')[0];
  return { page, html, token: token!, cookie: cookie! };
}

function post(t: DashboardApp, path: string, body: unknown, headers: Record<string, string>) {
  return fetch(`${t.url}/${path}`, {
    method: 'POST',
    headers: { authorization: basicAuth(), 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

describe('the dashboard over HTTP', () => {
  let t: DashboardApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('answers no route without the credentials', async () => {
    t = await createDashboardApp();
    const wrong = basicAuth(USER, `${PASSWORD}!`);
    for (const path of ['', '/assets/app.js', '/api/overview', '/api/dead-letters']) {
      const anonymous = await fetch(`${t.url}${path}`);
      expect({ path, status: anonymous.status }).toEqual({ path, status: 401 });
      expect(anonymous.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
      expect((await fetch(`${t.url}${path}`, { headers: { authorization: wrong } })).status).toBe(
        401,
      );
    }
    const action = await fetch(`${t.url}/api/queues/default/pause`, { method: 'POST' });
    expect(action.status).toBe(401);
  });

  it('serves the page with its CSRF token, a strict cookie and a content policy', async () => {
    t = await createDashboardApp();
    const { page, html, token, cookie } = await openPage(t);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(html).toContain('<base href="/queues/ui/" />');
    expect(cookie).toBe(`nqs_dashboard_csrf=${token}`);
    expect(page.headers.get('set-cookie')).toMatch(/Path=\/queues\/ui; HttpOnly; SameSite=Strict/);
    expect(page.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
    const script = await fetch(`${t.url}/assets/app.js`, {
      headers: { authorization: basicAuth() },
    });
    expect(script.headers.get('content-type')).toMatch(/^text\/javascript/);
    const unknown = await fetch(`${t.url}/assets/..%2Fdashboard.options.ts`, {
      headers: { authorization: basicAuth() },
    });
    expect(unknown.status).toBe(404);
  });

  it('shows the counts getQueueStatus returns, and dead letters with their errors', async () => {
    t = await createDashboardApp();
    const id = await deadLetter(t, 'ACME');
    await t.queue.pauseQueue('reports');
    await t.queue.enqueue({
      entity: {},
      processor: 'send-invoice',
      queueName: 'reports',
      priority: 'high',
    });
    const status = await t.queue.getQueueStatus();
    const auth = { headers: { authorization: basicAuth() } };

    const overview = await json<Overview>(fetch(`${t.url}/api/overview`, auth));
    const reports = overview.queues.find((q) => q.name === 'reports')!;
    expect(reports).toMatchObject({ paused: true, waiting: { high: 1, normal: 0, low: 0 } });
    const prefix = Object.keys(status)
      .find((key) => key.endsWith('high:reports'))!
      .slice(0, -'high:reports'.length);
    expect(reports.waiting.high).toBe(status[`${prefix}high:reports`]);
    expect(overview.counts.failures).toBe(status[`${prefix}failures`]);
    expect(overview.counts.failures).toBe(1);

    const list = await json<DeadLetters>(fetch(`${t.url}/api/dead-letters?from=failures`, auth));
    expect(list.jobs).toMatchObject([
      { operationId: id, lastError: expect.stringContaining('SMTP 421') },
    ]);
    expect(list.jobs[0]).not.toHaveProperty('entity');
    const job = await json<Job>(fetch(`${t.url}/api/jobs/${id}`, auth));
    expect(job).toMatchObject({ operationId: id, entity: { customer: 'ACME' }, attempts: 1 });
    expect((await fetch(`${t.url}/api/jobs/nope`, auth)).status).toBe(404);
    expect((await fetch(`${t.url}/api/overview?namespace=other`, auth)).status).toBe(404);
    expect((await fetch(`${t.url}/api/dead-letters?count=5000`, auth)).status).toBe(400);
  });

  it('refuses an action without the CSRF token, from another origin, or as a form', async () => {
    t = await createDashboardApp();
    const { token, cookie } = await openPage(t);
    const refused = [
      await post(t, 'api/queues/default/pause', {}, { cookie }),
      await post(t, 'api/queues/default/pause', {}, { 'x-csrf-token': token }),
      await post(t, 'api/queues/default/pause', {}, { cookie, 'x-csrf-token': 'f'.repeat(32) }),
      await post(
        t,
        'api/queues/default/pause',
        {},
        { cookie, 'x-csrf-token': token, origin: 'https://evil.example' },
      ),
      await post(
        t,
        'api/queues/default/pause',
        {},
        { cookie, 'x-csrf-token': token, 'content-type': 'text/plain' },
      ),
    ];
    expect(refused.map((response) => response.status)).toEqual([403, 403, 403, 403, 403]);
    expect(await t.queue.isPaused('default')).toBe(false);

    const origin = new URL(t.url).origin;
    const paused = await post(
      t,
      'api/queues/default/pause',
      {},
      { cookie, 'x-csrf-token': token, origin },
    );
    expect(paused.status).toBe(200);
    expect(await t.queue.isPaused('default')).toBe(true);
    await post(t, 'api/queues/default/resume', {}, { cookie, 'x-csrf-token': token });
    expect(await t.queue.isPaused('default')).toBe(false);
  });

  it('retries a dead letter, and shows the entity through the mask', async () => {
    t = await createDashboardApp({
      mask: (entity) => ({ ...(entity as object), customer: '***' }),
    });
    const id = await deadLetter(t, 'ACME');
    const auth = { headers: { authorization: basicAuth() } };
    const job = await json<Job>(fetch(`${t.url}/api/jobs/${id}`, auth));
    expect(job.entity).toEqual({ customer: '***' });

    t.jobs.broken = false;
    const { token, cookie } = await openPage(t);
    const retried = await post(
      t,
      'api/dead-letters/retry',
      { operationIds: [id] },
      { cookie, 'x-csrf-token': token },
    );
    expect(await retried.json()).toEqual({ retried: [id] });
    await waitFor(
      async () => (await t!.queue.getJob(id))?.state === 'completed',
      'the retried job to complete',
    );
  });

  it('lets a function of the request or an app guard decide', async () => {
    t = await createDashboardApp({ auth: (request) => request.headers['x-team'] === 'ops' });
    expect((await fetch(`${t.url}/api/overview`)).status).toBe(403);
    expect((await fetch(`${t.url}/api/overview`, { headers: { 'x-team': 'ops' } })).status).toBe(
      200,
    );
    await t.close();

    @Injectable()
    class TeamGuard implements CanActivate {
      canActivate(context: ExecutionContext): boolean {
        return context.switchToHttp().getRequest().headers['x-team'] === 'ops';
      }
    }
    t = await createDashboardApp({ auth: undefined, guards: [TeamGuard] });
    expect((await fetch(`${t.url}/api/overview`)).status).toBe(403);
    expect((await fetch(`${t.url}/api/overview`, { headers: { 'x-team': 'ops' } })).status).toBe(
      200,
    );
  });

  it('refuses to be declared without credentials or guards, naming the option', () => {
    expect(() => QueueDashboardModule.forRoot({ path: 'queues/ui' })).toThrow(QueueConfigError);
    expect(() => QueueDashboardModule.forRoot({ path: 'queues/ui' })).toThrow(/"dashboard\.auth"/);
    const empty = { path: 'ui', auth: { username: USER, password: '' } };
    expect(() => QueueDashboardModule.forRoot(empty)).toThrow(/"dashboard\.auth\.password"/);
    expect(() => QueueDashboardModule.forRoot({ path: 'ui', auth: false })).not.toThrow();
  });

  it('refuses an unknown option, naming it and never showing a credential', () => {
    const typo = { path: 'ui', auth: false as const, pollIntervall: 5_000 };
    expect(() => QueueDashboardModule.forRoot(typo)).toThrow(/"dashboard\.pollIntervall"/);
    const extra = { path: 'ui', auth: { username: USER, password: PASSWORD, passwd: 'hunter2' } };
    let refusal: unknown;
    try {
      QueueDashboardModule.forRoot(extra);
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(QueueConfigError);
    expect((refusal as QueueConfigError).field).toBe('dashboard.auth.passwd');
    expect(String(refusal)).not.toContain('hunter2');
    expect(String(refusal)).not.toContain(PASSWORD);
    const slow = { path: 'ui', auth: false as const, sampleInterval: 500 };
    expect(() => QueueDashboardModule.forRoot(slow)).toThrow(/"dashboard\.sampleInterval"/);
  });

  it('takes its settings from a factory with forRootAsync, and checks them at boot', async () => {
    const settings = { provide: 'SETTINGS', useValue: { user: USER, password: PASSWORD } };
    @Module({ providers: [settings], exports: [settings] })
    class SettingsModule {}
    t = await createDashboardApp(
      QueueDashboardModule.forRootAsync({
        path: 'queues/ui',
        imports: [SettingsModule],
        inject: ['SETTINGS'],
        useFactory: (given: { user: string; password: string }) => ({
          auth: { username: given.user, password: given.password },
        }),
      }),
    );
    expect((await fetch(`${t.url}/api/overview`)).status).toBe(401);
    const allowed = await fetch(`${t.url}/api/overview`, {
      headers: { authorization: basicAuth() },
    });
    expect(allowed.status).toBe(200);
    await t.close();
    t = undefined;

    const unguarded = QueueDashboardModule.forRootAsync({
      path: 'queues/ui',
      useFactory: () => ({}),
    });
    await expect(createDashboardApp(unguarded)).rejects.toThrow(/"dashboard\.auth"/);
    const typo = QueueDashboardModule.forRootAsync({
      path: 'queues/ui',
      useFactory: () => ({ auth: false as const, namespace: ['default'] }),
    });
    await expect(createDashboardApp(typo)).rejects.toThrow(/"dashboard\.namespace"/);
  });

  it('works the same on Fastify', async () => {
    t = await createDashboardApp({}, 'fastify');
    expect((await fetch(`${t.url}/api/overview`)).status).toBe(401);
    const { page, token, cookie } = await openPage(t);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
    const overview = await fetch(`${t.url}/api/overview`, {
      headers: { authorization: basicAuth() },
    });
    expect((await json<Overview>(overview)).namespace).toBe('default');
    expect((await post(t, 'api/queues/default/pause', {}, { cookie })).status).toBe(403);
    expect(
      (await post(t, 'api/queues/default/pause', {}, { cookie, 'x-csrf-token': token })).status,
    ).toBe(200);
    expect(await t.queue.isPaused('default')).toBe(true);
  });
});
