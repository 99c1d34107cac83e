// Dead letters (a page of a list, with retry) and a job's detail in a dialog.
import { act, read } from './api.js';
import { ago, dateTime, duration, fillTable, h, number } from './dom.js';

const PAGE = 20;
const view = { from: 'failures', start: 0, total: 0 };

/** Reads and draws the current page of the shown dead-letter list. */
export async function loadDeadLetters(namespace, counts) {
  view.total = counts[view.from] ?? 0;
  const page = await read('api/dead-letters', {
    namespace,
    from: view.from,
    start: view.start,
    count: PAGE,
  });
  const rows = page.jobs.map((job) =>
    h(
      'tr',
      { 'data-job': job.operationId },
      h(
        'td',
        {},
        h(
          'a',
          { href: '#', onclick: (e) => openJob(e, namespace, job.operationId) },
          short(job.operationId),
        ),
      ),
      h('td', {}, job.processor),
      h('td', {}, job.queueName),
      h('td', { class: 'num' }, `${job.attempts}/${job.maxAttempts}`),
      h('td', { title: dateTime(job.finishedAt) }, ago(job.finishedAt)),
      h('td', { class: 'error' }, job.lastError ?? ''),
      h(
        'td',
        {},
        h(
          'button',
          {
            type: 'button',
            class: 'retry',
            onclick: () => void retry(namespace, [job.operationId]),
          },
          'Retry',
        ),
      ),
    ),
  );
  fillTable(document.getElementById('dead-letters'), rows, 'No dead letter here');
  drawPager();
}

function drawPager() {
  const last = Math.min(view.start + PAGE, view.total);
  document.getElementById('page-info').textContent = view.total
    ? `${number(view.start + 1)}–${number(last)} of ${number(view.total)}`
    : '';
  document.getElementById('page-back').disabled = view.start === 0;
  document.getElementById('page-next').disabled = last >= view.total;
  for (const tab of document.querySelectorAll('[data-list]')) {
    tab.classList.toggle('active', tab.dataset.list === view.from);
  }
}

function short(id) {
  return id.length > 14 ? `${id.slice(0, 13)}…` : id;
}

let refresh = () => {};

async function retry(namespace, operationIds) {
  const all = operationIds === undefined;
  if (all && !confirm(`Retry all ${view.total} jobs of ${view.from}?`)) return;
  try {
    await act('api/dead-letters/retry', {
      namespace,
      from: view.from,
      ...(all ? { all } : { operationIds }),
    });
  } catch (error) {
    refresh.fail?.(error);
  }
  refresh();
}

/** Wires the tabs, the pager and "Retry all"; `onChange` redraws after an action. */
export function setUpDeadLetters(namespace, onChange) {
  refresh = onChange;
  for (const tab of document.querySelectorAll('[data-list]')) {
    tab.addEventListener('click', () => {
      view.from = tab.dataset.list;
      view.start = 0;
      refresh();
    });
  }
  document.getElementById('page-back').addEventListener('click', () => {
    view.start = Math.max(0, view.start - PAGE);
    refresh();
  });
  document.getElementById('page-next').addEventListener('click', () => {
    view.start += PAGE;
    refresh();
  });
  document
    .getElementById('retry-all')
    .addEventListener('click', () => void retry(namespace(), undefined));
}

function openJob(event, namespace, id) {
  event.preventDefault();
  void showJob(namespace, id);
}

/** Opens the detail dialog of one job; its entity as the dashboard's mask returned it. */
export async function showJob(namespace, id) {
  const body = document.getElementById('job-body');
  let job;
  try {
    job = await read(`api/jobs/${encodeURIComponent(id)}`, { namespace });
  } catch (error) {
    body.replaceChildren(
      h('p', { class: 'error' }, error.status === 404 ? `No job ${id}` : error.message),
    );
    document.getElementById('job').showModal();
    return;
  }
  const parts = [
    h('h2', {}, `Job ${job.operationId}`),
    h(
      'dl',
      {},
      facts(job).flatMap(([term, value]) => [h('dt', {}, term), h('dd', {}, value)]),
    ),
    job.lastError ? [h('h3', {}, 'Last error'), h('pre', { class: 'error' }, job.lastError)] : [],
    job.progress !== undefined ? [h('h3', {}, 'Progress'), h('pre', {}, pretty(job.progress))] : [],
    h('h3', {}, 'Entity'),
    h('pre', { class: 'entity' }, pretty(job.entity)),
    job.result !== undefined ? [h('h3', {}, 'Result'), h('pre', {}, pretty(job.result))] : [],
  ];
  body.replaceChildren(...parts.flat());
  document.getElementById('job').showModal();
}

function facts(job) {
  const waited = job.firstAttemptAt ? duration(job.firstAttemptAt - job.enqueuedAt) : '';
  const ran =
    job.finishedAt && job.firstAttemptAt ? duration(job.finishedAt - job.firstAttemptAt) : '';
  return [
    ['State', job.state],
    ['Processor', job.processor],
    ['Queue', `${job.queueName} (${job.priority})`],
    ['Tenant', job.tenant ?? '–'],
    ['Attempts', `${job.attempts} of ${job.maxAttempts}`],
    ['Enqueued', dateTime(job.enqueuedAt)],
    ['First attempt', `${dateTime(job.firstAttemptAt)}${waited ? ` (waited ${waited})` : ''}`],
    ['Finished', `${dateTime(job.finishedAt)}${ran ? ` (ran ${ran})` : ''}`],
  ];
}

function pretty(value) {
  return value === undefined ? '(none)' : JSON.stringify(value, null, 2);
}
