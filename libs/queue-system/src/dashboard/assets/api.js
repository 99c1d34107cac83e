// The dashboard's JSON routes, relative to the page's base URL.

const csrf = document.querySelector('meta[name="csrf-token"]').content;

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function parse(response) {
  const body = response.headers.get('content-type')?.includes('json')
    ? await response.json()
    : undefined;
  if (!response.ok) {
    throw new ApiError(response.status, body?.message ?? `HTTP ${response.status}`);
  }
  return body;
}

export async function read(path, params = {}) {
  const query = new URLSearchParams(
    Object.entries(params).filter(([, value]) => value !== undefined && value !== ''),
  );
  const response = await fetch(`${path}${query.size ? `?${query}` : ''}`, {
    credentials: 'same-origin',
    cache: 'no-store',
  });
  return parse(response);
}

/** Actions: a POST with a JSON body and the page's CSRF token. */
export async function act(path, body) {
  const response = await fetch(path, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
    body: JSON.stringify(body),
  });
  return parse(response);
}
