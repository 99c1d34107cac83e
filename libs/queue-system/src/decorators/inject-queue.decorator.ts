import { Inject } from '@nestjs/common';
import { getQueueToken } from '../utils/get-queue-token.util.js';

/** Injects the `QueueManager` of a namespace (`default` when omitted). */
export const InjectQueue = (namespace?: string): ParameterDecorator & PropertyDecorator =>
  Inject(getQueueToken(namespace));
