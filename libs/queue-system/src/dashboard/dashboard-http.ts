import type { IncomingMessage } from 'node:http';

/** Express passes Node's request; Fastify wraps it in `raw`. Either way, the Node request. */
export function nodeRequest(request: unknown): IncomingMessage {
  const wrapped = request as { raw?: IncomingMessage };
  return wrapped.raw ?? (request as IncomingMessage);
}

/** Sets a response header on Express (`res.header`) and Fastify (`reply.header`) alike. */
export function setHeader(response: unknown, name: string, value: string): void {
  (response as { header(name: string, value: string): unknown }).header(name, value);
}

/** One cookie of the request, or undefined. */
export function readCookie(request: IncomingMessage, name: string): string | undefined {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return undefined;
}

/** The request's path without its query and trailing slashes. */
export function requestPath(request: IncomingMessage): string {
  const path = (request.url ?? '/').split('?')[0]!;
  return path.replace(/\/+$/, '');
}

/** Whether the request came over TLS, directly or through a proxy that says so. */
export function isSecure(request: IncomingMessage): boolean {
  const socket = request.socket as { encrypted?: boolean };
  return socket.encrypted === true || request.headers['x-forwarded-proto'] === 'https';
}

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => HTML_ESCAPES[char]!);
}
