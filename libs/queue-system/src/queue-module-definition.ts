import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { QueueOptions } from './config/index.js';
import type { QueueEnhancers } from './enhancers/processor-enhancers.js';
import type { AnyJobContract } from './contracts/job-contract.js';
import type { JobSerializer } from './interfaces/job-options.interface.js';
import type { ScheduleDefinition } from './interfaces/schedule.interface.js';

export interface QueueModuleOptions extends QueueOptions {
  /** Serializers that jobs may name, beside the built-in `json`. */
  serializers?: JobSerializer[];
  /** Guards, interceptors, pipes and filters around every processor (classes or instances). */
  enhancers?: QueueEnhancers;
  /** Contracts this app enqueues without running them: no processor needed in this process. */
  jobs?: AnyJobContract[];
  /** Schedules of the root namespace, each naming a processor or contract; stored at bootstrap. */
  schedules?: ScheduleDefinition[];
}

export const {
  ConfigurableModuleClass: ConfigurableQueueModule,
  MODULE_OPTIONS_TOKEN: QUEUE_MODULE_OPTIONS,
  OPTIONS_TYPE: QUEUE_FOR_ROOT_OPTIONS,
  ASYNC_OPTIONS_TYPE: QUEUE_FOR_ROOT_ASYNC_OPTIONS,
} = new ConfigurableModuleBuilder<QueueModuleOptions>({ moduleName: 'Queue' })
  .setClassMethodName('forRoot')
  .build();
