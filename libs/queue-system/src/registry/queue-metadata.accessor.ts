import { Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { OnQueueEventMetadata } from '../decorators/on-queue-event.decorator.js';
import type { ProcessorMetadata } from '../decorators/processor.decorator.js';
import type { ScheduledOptions } from '../decorators/scheduled.decorator.js';
import {
  ON_FAILURE_METADATA,
  ON_QUEUE_EVENT_METADATA,
  ON_SUCCESS_METADATA,
  PROCESSOR_METADATA,
  SCHEDULE_METADATA,
} from '../queue.constants.js';

interface CallbackMetadata {
  name?: string;
}

/** Reads what the decorators wrote; nothing else touches the metadata keys. */
@Injectable()
export class QueueMetadataAccessor {
  constructor(private readonly reflector: Reflector) {}

  getProcessorMetadata(target: object): ProcessorMetadata | undefined {
    return this.reflector.get<ProcessorMetadata | undefined>(PROCESSOR_METADATA, target as never);
  }

  getOnSuccessMetadata(target: object): CallbackMetadata | undefined {
    return this.reflector.get<CallbackMetadata | undefined>(ON_SUCCESS_METADATA, target as never);
  }

  getOnFailureMetadata(target: object): CallbackMetadata | undefined {
    return this.reflector.get<CallbackMetadata | undefined>(ON_FAILURE_METADATA, target as never);
  }

  getOnQueueEventMetadata(target: object): OnQueueEventMetadata | undefined {
    return this.reflector.get<OnQueueEventMetadata | undefined>(
      ON_QUEUE_EVENT_METADATA,
      target as never,
    );
  }

  getScheduleMetadata(target: object): ScheduledOptions | undefined {
    return this.reflector.get<ScheduledOptions | undefined>(SCHEDULE_METADATA, target as never);
  }
}
