import { readFile } from 'node:fs/promises';
import { libraryFile } from '../library-root.js';

/** The page's files, shipped beside this module; nothing else is ever read from disk. */
const FILES: Record<string, { url: URL; type: string }> = {
  'app.js': { url: libraryFile('dashboard/assets/app.js'), type: 'text/javascript' },
  'api.js': { url: libraryFile('dashboard/assets/api.js'), type: 'text/javascript' },
  'dom.js': { url: libraryFile('dashboard/assets/dom.js'), type: 'text/javascript' },
  'panels.js': { url: libraryFile('dashboard/assets/panels.js'), type: 'text/javascript' },
  'charts.js': { url: libraryFile('dashboard/assets/charts.js'), type: 'text/javascript' },
  'jobs.js': { url: libraryFile('dashboard/assets/jobs.js'), type: 'text/javascript' },
  'style.css': { url: libraryFile('dashboard/assets/style.css'), type: 'text/css' },
};
const PAGE = libraryFile('dashboard/assets/index.html');

const cache = new Map<string, Promise<string>>();

function load(url: URL): Promise<string> {
  let text = cache.get(url.href);
  if (!text) {
    text = readFile(url, 'utf8');
    cache.set(url.href, text);
  }
  return text;
}

/** An asset by its file name, or undefined for any other name. */
export async function readAsset(name: string): Promise<{ body: string; type: string } | undefined> {
  const file = Object.hasOwn(FILES, name) ? FILES[name] : undefined;
  if (!file) return undefined;
  return { body: await load(file.url), type: `${file.type}; charset=utf-8` };
}

/** The page's HTML; `{{base}}` and `{{csrf}}` are filled per request, already escaped. */
export async function readPage(base: string, csrf: string): Promise<string> {
  const html = await load(PAGE);
  return html.replaceAll('{{base}}', base).replaceAll('{{csrf}}', csrf);
}

/** Scripts and styles only from the dashboard itself; no inline code, no frames. */
export const PAGE_HEADERS: Record<string, string> = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'self'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
};
