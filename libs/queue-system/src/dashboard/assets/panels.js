// The panels redrawn on each poll: summary cards, queues, workers, tenants, schedules.
import { ago, dateTime, duration, fillTable, h, number } from './dom.js';

const PRIORITIES = ['high', 'normal', 'low'];
const STATES = [
  ['waiting', 'Waiting'],
  ['delayed', 'Delayed'],
  ['active', 'Active'],
  ['failures', 'Failures'],
  ['system_errors', 'System errors'],
];

export function renderSummary(overview) {
  const cards = STATES.map(([key, label]) =>
    h(
      'div',
      { class: `card ${key}`, 'data-count': key },
      h('span', { class: 'value' }, number(overview.counts[key])),
      h('span', { class: 'label' }, label),
    ),
  );
  const rate = successRate(overview.counters);
  cards.push(
    h(
      'div',
      { class: 'card rate' },
      h('span', { class: 'value' }, rate),
      h('span', { class: 'label' }, 'Success rate'),
    ),
  );
  document.getElementById('summary').replaceChildren(...cards);
}

function successRate({ processed, failed }) {
  const ended = processed + failed;
  return ended === 0 ? '–' : `${((100 * processed) / ended).toFixed(1)} %`;
}

/** `onToggle(queue, pause)` runs when a Pause or Resume button is clicked. */
export function renderQueues(overview, onToggle) {
  const rows = overview.queues.map((queue) => {
    const waiting = PRIORITIES.reduce((sum, p) => sum + (queue.waiting[p] ?? 0), 0);
    return h(
      'tr',
      { 'data-queue': queue.name },
      h('th', { scope: 'row' }, queue.name),
      PRIORITIES.map((p) =>
        h('td', { 'data-priority': p, class: 'num' }, number(queue.waiting[p])),
      ),
      h('td', { class: 'num total' }, number(waiting)),
      h('td', { class: 'state' }, queueState(queue)),
      h(
        'td',
        {},
        h(
          'button',
          {
            type: 'button',
            class: queue.paused ? 'resume' : 'pause',
            onclick: () => onToggle(queue.name, !queue.paused),
          },
          queue.paused ? 'Resume' : 'Pause',
        ),
      ),
    );
  });
  fillTable(document.getElementById('queues'), rows, 'No queue has had a job yet');
}

function queueState(queue) {
  const badges = [];
  badges.push(
    h(
      'span',
      { class: `badge ${queue.paused ? 'paused' : 'running'}` },
      queue.paused ? 'paused' : 'running',
    ),
  );
  if (queue.breaker) badges.push(h('span', { class: 'badge breaker' }, `breaker ${queue.breaker}`));
  if (queue.rateLimit) {
    const { max, duration: every } = queue.rateLimit;
    badges.push(h('span', { class: 'badge limit' }, `${max} / ${duration(every)}`));
  }
  return badges;
}

export function renderWorkers(overview) {
  const rows = overview.workers.map((worker) =>
    h(
      'tr',
      {},
      h('td', { title: worker.id }, `${worker.host}:${worker.pid}`),
      h('td', {}, worker.queues === 'all' ? 'all' : worker.queues.join(', ')),
      h('td', { class: 'num' }, number(worker.running)),
      h('td', { class: 'num' }, `${worker.slots}`),
      h('td', { class: 'num' }, worker.throughput.toFixed(1)),
      h('td', {}, duration(worker.uptimeMs)),
    ),
  );
  fillTable(document.getElementById('workers'), rows, 'No live worker');
}

export function renderTenants(overview) {
  const rows = Object.entries(overview.tenants)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([tenant, counts]) =>
      h(
        'tr',
        { 'data-tenant': tenant },
        h('td', {}, tenant),
        h('td', { class: 'num' }, number(counts.waiting)),
        h('td', { class: 'num' }, number(counts.active)),
      ),
    );
  fillTable(document.getElementById('tenants'), rows, 'No tenant has jobs');
}

export function renderSchedules(overview) {
  const rows = overview.schedules.map((schedule) =>
    h(
      'tr',
      {},
      h('td', {}, schedule.name),
      h('td', {}, h('code', {}, schedule.cron), schedule.timeZone ? ` (${schedule.timeZone})` : ''),
      h('td', {}, schedule.processor),
      h('td', {}, schedule.queueName),
      h('td', { title: dateTime(schedule.nextRunAt) }, nextRun(schedule.nextRunAt)),
    ),
  );
  fillTable(document.getElementById('schedules'), rows, 'No schedule');
}

function nextRun(at) {
  if (!at) return '';
  const ms = new Date(at).getTime() - Date.now();
  return ms >= 0 ? `in ${duration(ms)}` : ago(new Date(at).getTime());
}
