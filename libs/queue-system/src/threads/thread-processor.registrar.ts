import { pathToFileURL } from 'node:url';
import { Injectable, type OnModuleInit } from '@nestjs/common';
import type { JobProgress } from '../events/queue-event.js';
import type { JobContext } from '../interfaces/processor.interface.js';
import { CallableRegistry } from '../registry/callable-registry.js';
import { ThreadPool } from './thread-pool.js';

export interface ThreadProcessorDefinition {
  /** The processor name jobs use, as with `@Processor(name)`. */
  name: string;
  /**
   * The module whose default export `(entity, ctx) => result` runs in a pool thread, e.g.
   * `new URL('./invoice-pdf.thread.js', import.meta.url)`, or in CommonJS
   * `join(__dirname, 'invoice-pdf.thread.js')`. It runs in another thread: it may
   * use its own imports, never Nest providers or state of the main thread.
   */
  file: URL | string;
  /** The most jobs of this processor one process runs at once. */
  concurrency?: number;
}

/** Registers thread processors beside the decorated ones; their jobs run in the pool. */
@Injectable()
export class ThreadProcessorRegistrar implements OnModuleInit {
  constructor(
    private readonly registry: CallableRegistry,
    private readonly pool: ThreadPool,
    private readonly definitions: readonly ThreadProcessorDefinition[],
  ) {}

  onModuleInit(): void {
    for (const definition of this.definitions) {
      const moduleUrl = toModuleUrl(definition.file);
      this.pool.addModule(moduleUrl);
      this.registry.register({
        kind: 'processor',
        name: definition.name,
        invoke: (entity: unknown, ctx: unknown) => {
          const jobContext = ctx as JobContext;
          const { signal, ...context } = jobContext;
          // Checked in the thread already; stored as a main-thread processor's report is.
          const onProgress = (progress: JobProgress) =>
            jobContext.progress(progress).catch(() => undefined);
          return this.pool.run(moduleUrl, definition.name, entity, context, signal, onProgress);
        },
        method: definition,
        place: `thread module ${moduleUrl}`,
        concurrency: definition.concurrency,
        thread: true,
      });
    }
  }
}

/** A URL stays as it is; a path becomes a file URL. */
function toModuleUrl(file: URL | string): string {
  if (file instanceof URL) return file.href;
  return /^[a-z]+:/i.test(file) ? file : pathToFileURL(file).href;
}
