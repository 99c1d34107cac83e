export const DEFAULT_NAMESPACE = 'default';

/** Metadata keys written by the decorators and read by the metadata accessor only. */
export const PROCESSOR_METADATA = 'queue:processor';
export const ON_SUCCESS_METADATA = 'queue:on_success';
export const ON_FAILURE_METADATA = 'queue:on_failure';
export const SCHEDULE_METADATA = 'queue:schedule';
export const ON_QUEUE_EVENT_METADATA = 'queue:on_event';

/** The validated `QueueConfig` of the root module. */
export const QUEUE_CONFIG = Symbol('QUEUE_CONFIG');
