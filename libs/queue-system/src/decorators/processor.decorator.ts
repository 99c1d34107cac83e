import { SetMetadata } from '@nestjs/common';
import type { ProcessorOptions } from '../interfaces/processor.interface.js';
import { PROCESSOR_METADATA } from '../queue.constants.js';

export interface ProcessorMetadata extends ProcessorOptions {
  name?: string;
}

/**
 * Registers the method as a job processor under `name` (default `ClassName.method`).
 * Its queue is named after it unless a job says otherwise.
 */
export function Processor(name?: string, options: ProcessorOptions = {}): MethodDecorator {
  return SetMetadata<string, ProcessorMetadata>(PROCESSOR_METADATA, { name, ...options });
}
