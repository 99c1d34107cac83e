// The dashboard page: reads the state every `pollInterval` ms while the tab is visible.
import { act, read } from './api.js';
import { renderCharts } from './charts.js';
import { loadDeadLetters, setUpDeadLetters, showJob } from './jobs.js';
import {
  renderQueues,
  renderSchedules,
  renderSummary,
  renderTenants,
  renderWorkers,
} from './panels.js';

const state = { namespace: '', pollInterval: 3000, timer: undefined, busy: false };
const status = document.getElementById('status');

function showStatus(text, kind) {
  status.textContent = text;
  status.className = `status ${kind}`;
}

async function toggleQueue(queue, pause) {
  try {
    await act(`api/queues/${encodeURIComponent(queue)}/${pause ? 'pause' : 'resume'}`, {
      namespace: state.namespace,
    });
  } catch (error) {
    fail(error);
  }
  await refresh();
}

function drawNamespaces(names) {
  const select = document.getElementById('namespace');
  if (select.options.length === names.length) return;
  select.replaceChildren(
    ...names.map((name) => new Option(name, name, false, name === state.namespace)),
  );
}

/** One poll: the overview, then the shown page of dead letters. */
async function refresh() {
  if (state.busy) return;
  state.busy = true;
  try {
    const overview = await read('api/overview', { namespace: state.namespace });
    state.namespace = overview.namespace;
    state.pollInterval = overview.pollInterval;
    drawNamespaces(overview.namespaces);
    renderSummary(overview);
    renderQueues(overview, toggleQueue);
    renderCharts(overview);
    renderWorkers(overview);
    renderTenants(overview);
    renderSchedules(overview);
    await loadDeadLetters(state.namespace, overview.counts);
    showStatus(`live · ${new Date(overview.at).toLocaleTimeString('en-GB')}`, 'ok');
    // Lets a reader (or a test) tell that the page shows this read.
    document.body.dataset.updated = String(overview.at);
  } catch (error) {
    fail(error);
  } finally {
    state.busy = false;
  }
}

function fail(error) {
  const text =
    error.status === 401 || error.status === 403 ? 'not allowed: sign in again' : error.message;
  showStatus(text, 'error');
}

function schedule() {
  clearTimeout(state.timer);
  if (document.hidden) return;
  state.timer = setTimeout(async () => {
    await refresh();
    schedule();
  }, state.pollInterval);
}

function start() {
  const redraw = () => void refresh();
  redraw.fail = fail;
  setUpDeadLetters(() => state.namespace, redraw);
  document.getElementById('namespace').addEventListener('change', (event) => {
    state.namespace = event.target.value;
    redraw();
  });
  document.getElementById('find-job').addEventListener('submit', (event) => {
    event.preventDefault();
    const id = new FormData(event.target).get('id').trim();
    if (id) void showJob(state.namespace, id);
  });
  // A hidden tab stops polling; showing it again reads at once.
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden) void refresh().then(schedule);
    else clearTimeout(state.timer);
  });
  void refresh().then(schedule);
}

start();
