// Small DOM helpers. Text always goes in as text nodes, never as HTML: job data cannot inject markup.

/** An element with attributes (`on*` functions become listeners) and children. */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      element.addEventListener(name.slice(2), value);
    } else element.setAttribute(name, value === true ? '' : String(value));
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces a table's body rows; a placeholder row when there are none. */
export function fillTable(table, rows, empty) {
  const body = table.tBodies[0];
  const columns = table.tHead.rows[0].cells.length;
  body.replaceChildren(
    ...(rows.length ? rows : [h('tr', {}, h('td', { colspan: columns, class: 'empty' }, empty))]),
  );
}

export const number = (value) => Number(value ?? 0).toLocaleString('en');

/** "12 s ago", "3 min ago", ... from a time in ms. */
export function ago(at, now = Date.now()) {
  if (!at) return '';
  return `${duration(now - at)} ago`;
}

export function duration(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d`;
}

export function dateTime(at) {
  return at ? new Date(at).toLocaleString('en-GB') : '';
}
