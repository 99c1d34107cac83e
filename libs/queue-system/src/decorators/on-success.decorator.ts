import { SetMetadata } from '@nestjs/common';
import { ON_SUCCESS_METADATA } from '../queue.constants.js';

/** Registers the method as a success callback: it gets `{ entity, result, operationId }`. */
export function OnSuccess(name?: string): MethodDecorator {
  return SetMetadata(ON_SUCCESS_METADATA, { name });
}
