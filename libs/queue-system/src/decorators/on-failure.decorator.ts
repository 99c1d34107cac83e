import { SetMetadata } from '@nestjs/common';
import { ON_FAILURE_METADATA } from '../queue.constants.js';

/** Registers the method as a failure callback: it gets `{ entity, error, operationId }`. */
export function OnFailure(name?: string): MethodDecorator {
  return SetMetadata(ON_FAILURE_METADATA, { name });
}
