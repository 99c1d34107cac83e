import { mkdirSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, type Browser } from './support/browser.js';
import {
  createDashboardApp,
  deadLetter,
  PASSWORD,
  USER,
  type DashboardApp,
} from './support/dashboard-app.js';
import { waitFor } from './support/queue-test-app.js';

interface HTMLBodyLike {
  dataset: { updated?: string };
}

const ARTIFACTS = new URL('./artifacts/', import.meta.url);

/** Waits for the page to draw a read made after `after` (ms), so it shows the state since then. */
async function redrawnAfter(page: Page, after: number): Promise<void> {
  // Runs in the page; this file is type-checked without the DOM's types, hence the cast.
  await page.waitForFunction((at) => {
    const { document } = globalThis as unknown as { document: { body: HTMLBodyLike } };
    return Number(document.body.dataset.updated ?? 0) > at;
  }, after);
}

describe('the dashboard in Chromium', () => {
  let t: DashboardApp;
  let browser: Browser;
  let page: Page;
  let failed: string;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    t = await createDashboardApp({ pollInterval: 1_000 });
    failed = await deadLetter(t, 'ACME Corp');
    // A paused queue keeps its jobs waiting, so the counts hold still while the page is read.
    await t.queue.pauseQueue('reports');
    for (const [priority, count] of [
      ['high', 2],
      ['normal', 1],
      ['low', 3],
    ] as const) {
      for (let i = 0; i < count; i++) {
        await t.queue.enqueue({
          entity: { i },
          processor: 'send-invoice',
          queueName: 'reports',
          priority,
          tenant: `tenant-${i % 2}`,
        });
      }
    }
    await t.queue.upsertSchedule({
      name: 'nightly-invoices',
      cron: '0 2 * * *',
      processor: 'send-invoice',
      entity: {},
    });
    browser = await launchChromium({ httpCredentials: { username: USER, password: PASSWORD } });
    page = await browser.context.newPage();
  });

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('shows the counts getQueueStatus returns', async () => {
    const response = await page.goto(t.url);
    expect(response?.status()).toBe(200);
    await redrawnAfter(page, 0);
    const status = await t.queue.getQueueStatus();
    const count = (key: string) => Object.entries(status).find(([name]) => name.endsWith(key))![1];

    const row = page.locator('#queues tr[data-queue="reports"]');
    for (const priority of ['high', 'normal', 'low']) {
      const shown = await row.locator(`td[data-priority="${priority}"]`).textContent();
      expect(Number(shown)).toBe(count(`${priority}:reports`));
    }
    expect(await row.locator('.state').textContent()).toContain('paused');
    expect(Number(await page.locator('[data-count="failures"] .value').textContent())).toBe(
      count('failures'),
    );
    await expect
      .poll(() => page.locator('#dead-letters .error').first().textContent())
      .toContain('SMTP 421');
    const tenants = await t.queue.getTenantCounts();
    const tenantRow = page.locator('#tenants tr[data-tenant="tenant-0"] td');
    expect(Number(await tenantRow.nth(1).textContent())).toBe(tenants['tenant-0']!.waiting);
    expect(await page.locator('#schedules').textContent()).toContain('nightly-invoices');
    expect(await page.locator('#workers tbody tr').count()).toBe(1);
    await page.screenshot({ path: new URL('dashboard.png', ARTIFACTS).pathname, fullPage: true });
  });

  it('retries a dead letter by clicking, and sees it complete', async () => {
    t.jobs.broken = false;
    await page.locator(`#dead-letters tr[data-job="${failed}"] button.retry`).click();
    await waitFor(
      async () => (await t.queue.getJob(failed))?.state === 'completed',
      'the retried job to complete',
    );
    const done = Date.now();
    await redrawnAfter(page, done);
    expect(await page.locator('[data-count="failures"] .value').textContent()).toBe('0');

    await page.locator('#find-job input').fill(failed);
    await page.locator('#find-job button').click();
    const dialog = page.locator('dialog#job');
    await dialog.waitFor({ state: 'visible' });
    expect(await dialog.locator('dd').first().textContent()).toBe('completed');
    expect(await dialog.locator('pre.entity').textContent()).toContain('ACME Corp');
    await page.screenshot({ path: new URL('job-detail.png', ARTIFACTS).pathname });
    await dialog.locator('button.close').click();
    await dialog.waitFor({ state: 'hidden' });
  });

  it('pauses a queue by clicking', async () => {
    expect(await t.queue.isPaused('send-invoice')).toBe(false);
    await page.locator('#queues tr[data-queue="send-invoice"] button.pause').click();
    await waitFor(() => t.queue.isPaused('send-invoice'), 'the queue to be paused');
    await page.locator('#queues tr[data-queue="send-invoice"] button.resume').waitFor();
  });

  it('refuses an action without the CSRF token, even from the signed-in page', async () => {
    const status = await page.evaluate(async () => {
      const response = await fetch('api/queues/send-invoice/resume', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: '{}',
      });
      return response.status;
    });
    expect(status).toBe(403);
    expect(await t.queue.isPaused('send-invoice')).toBe(true);
  });

  it('is refused without credentials: page, assets and JSON', async () => {
    const anonymous = await launchChromium();
    try {
      const stranger = await anonymous.context.newPage();
      // Chromium refuses the page itself: a 401 it holds no credentials for ends the navigation.
      const opened = await stranger.goto(t.url).catch((error: Error) => error);
      expect(opened).toBeInstanceOf(Error);
      expect(String(opened)).toMatch(/ERR_INVALID_AUTH_CREDENTIALS/);
      expect(await stranger.locator('#queues').count()).toBe(0);
      // From a page of the same origin outside the dashboard, each route answers 401.
      const elsewhere = await anonymous.context.newPage();
      await elsewhere.goto(new URL('/elsewhere', t.url).href);
      const paths = ['', '/assets/app.js', '/api/overview', '/api/dead-letters'];
      const statuses = await elsewhere.evaluate(
        (urls) =>
          Promise.all(urls.map(async (url) => (await fetch(url, { credentials: 'omit' })).status)),
        paths.map((path) => `${t.url}${path}`),
      );
      expect(statuses).toEqual([401, 401, 401, 401]);
    } finally {
      await anonymous.close();
    }
  });
});
