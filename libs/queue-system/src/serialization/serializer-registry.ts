import { QueueInputError } from '../errors.js';
import type { JobSerializer } from '../interfaces/job-options.interface.js';

const JSON_SERIALIZER: JobSerializer = {
  name: 'json',
  serialize: (entity) => {
    const text = JSON.stringify(entity);
    // JSON.stringify(undefined) is undefined: keep the entity as null rather than lose the job.
    return text === undefined ? 'null' : text;
  },
  deserialize: (text) => JSON.parse(text) as unknown,
};

/** Serializers by name: a job stores the name, the worker finds the code here. */
export class SerializerRegistry {
  private readonly serializers = new Map<string, JobSerializer>([['json', JSON_SERIALIZER]]);

  constructor(serializers: readonly JobSerializer[] = []) {
    for (const serializer of serializers) this.add(serializer);
  }

  /** Registers a serializer met at enqueue time, so that this process's worker can read it back. */
  add(serializer: JobSerializer): void {
    if (!serializer.name || typeof serializer.serialize !== 'function') {
      throw new QueueInputError('customSerializer', serializer, 'needs a name and serialize()');
    }
    const known = this.serializers.get(serializer.name);
    if (known && known !== serializer) {
      throw new QueueInputError(
        'customSerializer',
        serializer.name,
        'another serializer is already registered under this name',
      );
    }
    this.serializers.set(serializer.name, serializer);
  }

  get(name: string): JobSerializer | undefined {
    return this.serializers.get(name);
  }
}
