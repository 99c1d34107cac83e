import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isSecure, readCookie } from './dashboard-http.js';

export const CSRF_COOKIE = 'nqs_dashboard_csrf';
/** Lower case: Node lowercases the names of request headers. */
export const CSRF_HEADER = 'x-csrf-token';

const TOKEN = /^[0-9a-f]{32}$/;

/** The browser's token: the one its cookie holds, or a new one. */
export function csrfToken(request: IncomingMessage): { token: string; isNew: boolean } {
  const current = readCookie(request, CSRF_COOKIE);
  if (current && TOKEN.test(current)) return { token: current, isNew: false };
  return { token: randomBytes(16).toString('hex'), isNew: true };
}

/**
 * The cookie that carries the token: readable by no script (the page gets the token in its
 * HTML), sent only to the dashboard's path and never with a request from another site.
 */
export function csrfCookie(token: string, path: string, request: IncomingMessage): string {
  const secure = isSecure(request) ? '; Secure' : '';
  return `${CSRF_COOKIE}=${token}; Path=${path || '/'}; HttpOnly; SameSite=Strict${secure}`;
}

/**
 * A browser names the page that sent a request: `Sec-Fetch-Site` (every current browser) and
 * `Origin` on a POST. Either, when present, must say this site; a client that sends neither is
 * no browser and has no ambient credentials to abuse.
 */
export function isSameOrigin(request: IncomingMessage): boolean {
  const site = request.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin') return false;
  const origin = request.headers.origin;
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === request.headers.host;
  } catch {
    return false;
  }
}
