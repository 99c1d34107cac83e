// The entry of every pool thread. Plain JavaScript on purpose: threads start without any
// TypeScript loader, fast, and nothing native is left half-done when a thread is terminated.
// Types: ThreadTask and ThreadOutcome in thread-task.ts.

/** @type {Map<string, Promise<(entity: unknown, context: unknown) => unknown>>} */
const modules = new Map();

function load(moduleUrl) {
  let loaded = modules.get(moduleUrl);
  if (!loaded) {
    loaded = import(moduleUrl).then((module) => {
      // A CommonJS module compiled from `export default` arrives as { default: fn }.
      const run = typeof module.default === 'function' ? module.default : module.default?.default;
      if (typeof run !== 'function') {
        throw new TypeError(`${moduleUrl} has no default export function to run`);
      }
      return run;
    });
    modules.set(moduleUrl, loaded);
  }
  return loaded;
}

// Structured clone keeps neither an error's class nor its flags: send what matters as data.
function serializeError(error) {
  if (error instanceof Error) {
    return {
      name: error.name,
      message: error.message,
      stack: error.stack,
      permanent: error.permanent === true,
    };
  }
  return { name: 'Error', message: String(error), permanent: false };
}

// As on the main thread: a finite number or a plain object, which structured clone can send.
function isProgress(value) {
  if (typeof value === 'number') return Number.isFinite(value);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function contextOf(task) {
  const port = task.progressPort;
  const progress = (value) => {
    if (!isProgress(value)) {
      const why = 'Invalid job progress "progress": must be a finite number or a plain object';
      return Promise.reject(new TypeError(why));
    }
    try {
      port.postMessage({ progress: value });
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error);
    }
  };
  return { ...task.context, progress };
}

export default async function runThreadTask(task) {
  try {
    const run = await load(task.moduleUrl);
    const result = await run(task.entity, contextOf(task));
    try {
      // Checked here, inside the thread, so the main thread gets a readable error.
      structuredClone(result);
    } catch (error) {
      throw new TypeError(
        `The result of thread processor "${task.processor}" cannot be sent back to the main thread: ${error.message}`,
        { cause: error },
      );
    }
    return { ok: true, result };
  } catch (error) {
    return { ok: false, error: serializeError(error) };
  } finally {
    // The last message on the port: the main thread stops listening once it arrives.
    const port = task.progressPort;
    port.postMessage({ end: true });
    port.close();
  }
}
