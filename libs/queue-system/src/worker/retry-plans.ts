import { QueueRetryConfig } from '../config/index.js';

const CACHE_SIZE = 256;

/** Jobs of one kind share a handful of retry plans: each text is parsed and validated once. */
export class RetryPlans {
  private readonly plans = new Map<string, QueueRetryConfig>();

  /** The plan stored with a job; throws when the text is not a valid plan. */
  parse(text: string): QueueRetryConfig {
    let plan = this.plans.get(text);
    if (!plan) {
      plan = QueueRetryConfig.fromJSON(JSON.parse(text));
      if (this.plans.size >= CACHE_SIZE) this.plans.clear();
      this.plans.set(text, plan);
    }
    return plan;
  }
}
