import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * The CommonJS form of `library-root.ts`: this module lands in dist/cjs/, and the run-time
 * files live once, beside the ES module build, in dist/.
 */
export const LIBRARY_ROOT: URL = pathToFileURL(join(__dirname, '..') + '/');

/** A run-time file of the library, by its path under the library's folder. */
export function libraryFile(path: string): URL {
  return new URL(path, LIBRARY_ROOT);
}
