/**
 * The folder of the library's modules: src/ when run from the sources, dist/ in the package.
 * The run-time files (Lua scripts, thread runner, dashboard page) are found from here, so the
 * ES module build and the CommonJS build share one copy of them. This is the ES module form;
 * the CommonJS build compiles `library-root.cjs.ts` in its place.
 */
export const LIBRARY_ROOT: URL = new URL('./', import.meta.url);

/** A run-time file of the library, by its path under the library's folder. */
export function libraryFile(path: string): URL {
  return new URL(path, LIBRARY_ROOT);
}
