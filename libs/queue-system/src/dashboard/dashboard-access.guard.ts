import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import {
  ForbiddenException,
  Inject,
  Injectable,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { CSRF_COOKIE, CSRF_HEADER, isSameOrigin } from './dashboard-csrf.js';
import { nodeRequest, readCookie, setHeader } from './dashboard-http.js';
import {
  QUEUE_DASHBOARD_SETTINGS,
  type DashboardBasicAuth,
  type DashboardSettings,
} from './dashboard.options.js';

const REALM = 'Basic realm="Queue dashboard", charset="UTF-8"';

/**
 * Runs before every dashboard route, after the app's own guards: checks the configured
 * credentials (or function), then, on a POST, the CSRF defence. Nothing of the request is
 * logged.
 */
@Injectable()
export class DashboardAccessGuard implements CanActivate {
  constructor(@Inject(QUEUE_DASHBOARD_SETTINGS) private readonly settings: DashboardSettings) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const request = nodeRequest(http.getRequest());
    const { auth } = this.settings;
    if (typeof auth === 'function') {
      if (!(await auth(request))) throw new ForbiddenException();
    } else if (auth && !matchesBasic(request, auth)) {
      setHeader(http.getResponse(), 'WWW-Authenticate', REALM);
      throw new UnauthorizedException();
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') checkCsrf(request);
    return true;
  }
}

/** Double-submit token, same origin, and a JSON body (which a cross-site form cannot send). */
function checkCsrf(request: IncomingMessage): void {
  const cookie = readCookie(request, CSRF_COOKIE);
  const header = request.headers[CSRF_HEADER];
  if (!cookie || typeof header !== 'string' || !sameText(cookie, header)) {
    throw new ForbiddenException('Missing or wrong CSRF token');
  }
  if (!isSameOrigin(request)) throw new ForbiddenException('Cross-origin request');
  if (!(request.headers['content-type'] ?? '').startsWith('application/json')) {
    throw new ForbiddenException('Actions take a JSON body');
  }
}

function matchesBasic(request: IncomingMessage, auth: DashboardBasicAuth): boolean {
  const header = request.headers.authorization ?? '';
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!match) return false;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return false;
  // Both checks always run, so the time taken tells nothing about which one failed.
  const user = sameText(decoded.slice(0, colon), auth.username);
  const password = sameText(decoded.slice(colon + 1), auth.password);
  return user && password;
}

/** Constant-time comparison of two strings of any length (their digests have one length). */
function sameText(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
