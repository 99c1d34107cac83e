/** A tenant's share of the workers, stored in Redis for every process (`setTenantPolicy`). */
export interface TenantPolicy {
  /** Jobs the tenant takes per turn in the rotation; 1 when absent. At least 1. */
  weight?: number;
  /** Most jobs of the tenant running at once across every process; no cap when absent. */
  concurrency?: number;
  /**
   * Most jobs of the tenant started per `duration` ms across every queue and process: a token
   * bucket of `burst` tokens (default `max`) refilled by `max` every `duration`. Fetch skips
   * the tenant while its bucket is empty; other tenants keep their turns. No limit when absent.
   */
  rateLimit?: { max: number; duration: number; burst?: number };
}

/** One tenant's jobs: waiting in its ready lists, and running across every process. */
export interface TenantCounts {
  waiting: number;
  active: number;
}
