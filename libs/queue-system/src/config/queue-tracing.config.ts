import { booleanOption } from './config-option.js';
import {
  configSection,
  defineSection,
  sectionJSON,
  type SectionJSON,
  type SectionOptions,
} from './config-section.js';

export const TRACING_SECTION = defineSection({
  name: 'tracing',
  className: 'QueueTracingConfig',
  options: {
    enabled: booleanOption({
      default: false,
      description:
        'Spans through `@opentelemetry/api` (the app installs it; see docs/observability.md). `tracing: true` sets it.',
    }),
  },
});

export type QueueTracingOptions = SectionOptions<typeof TRACING_SECTION.options>;
export type QueueTracingConfigJSON = SectionJSON<typeof TRACING_SECTION.options>;

export class QueueTracingConfig extends configSection(TRACING_SECTION) {
  toJSON(): QueueTracingConfigJSON {
    return sectionJSON(TRACING_SECTION, this);
  }
}
