import { integerAtLeast, positiveDuration } from './config-option.js';
import {
  configSection,
  defineSection,
  sectionJSON,
  type SectionJSON,
  type SectionOptions,
} from './config-section.js';

export const EVENTS_SECTION = defineSection({
  name: 'events',
  className: 'QueueEventsConfig',
  options: {
    maxLength: integerAtLeast(1, {
      default: 10_000,
      description:
        "About how many entries a namespace's event stream keeps (`MAXLEN ~`); written only while a process listens.",
    }),
    listenerTtl: positiveDuration({
      default: 10_000,
      description:
        'How long a listener registration lasts unless renewed (every third of it while subscribed); scripts stop writing events that long after the last listener vanished.',
    }),
  },
});

export type QueueEventsOptions = SectionOptions<typeof EVENTS_SECTION.options>;
export type QueueEventsConfigJSON = SectionJSON<typeof EVENTS_SECTION.options>;

export class QueueEventsConfig extends configSection(EVENTS_SECTION) {
  toJSON(): QueueEventsConfigJSON {
    return sectionJSON(EVENTS_SECTION, this);
  }
}
