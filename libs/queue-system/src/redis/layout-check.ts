import { QueueLayoutError, QueueUnavailableError } from '../errors.js';
import type { QueueKeys } from './queue-keys.js';
import type { RedisClient, RedisConnection } from './redis-connection.js';
import { runScript } from './script-loader.js';

/**
 * The version of the Redis data layout: how jobs, leases and their lists are stored. Bump it
 * when a change makes data written by one version unreadable, or misread, by the other; a
 * change of a script's arguments alone needs no bump, since each process calls its own scripts
 * by the SHA1 of their text. `docs/upgrading.md` lists the versions.
 */
export const LAYOUT_VERSION = '6';

/** The layout of data written before namespaces stored their version. */
export const UNVERSIONED_LAYOUT = '4';

/**
 * Older layouts whose data this version reads as is: the layout check restamps such a
 * namespace with LAYOUT_VERSION, so that a process of an older layout, which would not read
 * the tenants' ready lists that 5 added nor the compact tenants' jobs that 6 added, refuses it
 * from then on (see `docs/upgrading.md`).
 */
export const UPGRADABLE_LAYOUTS: readonly string[] = ['4', '5'];

/**
 * The layout check of one namespace: `check-layout-1.lua` stamps a new namespace with
 * LAYOUT_VERSION and returns the version stored; a process refuses a namespace stored in
 * another layout rather than misread or drop its jobs.
 */
export class LayoutCheck {
  /** True once the namespace was found in LAYOUT_VERSION (or upgraded to it). */
  passed = false;
  private pending: Promise<void> | undefined;
  private refusal: QueueLayoutError | undefined;

  constructor(readonly keys: QueueKeys) {}

  /**
   * Resolves once the namespace's layout is LAYOUT_VERSION (an upgradable one is restamped),
   * checking it on the first call.
   * Rejects with QueueLayoutError when it is another (from then on at once), or with the
   * call's error when Redis did not answer (the next call checks again).
   */
  ensure(client: RedisClient): Promise<void> {
    if (this.passed) return Promise.resolve();
    if (this.refusal) return Promise.reject(this.refusal);
    this.pending ??= this.check(client).finally(() => (this.pending = undefined));
    return this.pending;
  }

  private async check(client: RedisClient): Promise<void> {
    const { layout, base } = this.keys;
    const args = [base, LAYOUT_VERSION, UNVERSIONED_LAYOUT, ...UPGRADABLE_LAYOUTS];
    const stored = String(await runScript(client, 'check-layout', [layout], args));
    if (stored !== LAYOUT_VERSION) {
      this.refusal = new QueueLayoutError(this.keys.namespace, layout, stored, LAYOUT_VERSION);
      throw this.refusal;
    }
    this.passed = true;
  }
}

/** The layout checks of an application's namespaces: one per namespace, shared by its providers. */
export class LayoutChecks {
  private readonly checks = new Map<string, LayoutCheck>();

  for(keys: QueueKeys): LayoutCheck {
    let check = this.checks.get(keys.base);
    if (!check) this.checks.set(keys.base, (check = new LayoutCheck(keys)));
    return check;
  }

  /**
   * Checks every namespace, for bootstrap: rejects with QueueLayoutError when one is stored in
   * another layout. A namespace that Redis could not be asked about (it is unreachable, and
   * the app boots without it) is checked by its first script call instead; their names are
   * returned.
   */
  async checkAll(connection: RedisConnection): Promise<string[]> {
    const unchecked: string[] = [];
    const checkOne = async (check: LayoutCheck) => {
      try {
        await connection.run('checkLayout', () => check.ensure(connection.client));
      } catch (error) {
        if (!(error instanceof QueueUnavailableError)) throw error;
        unchecked.push(check.keys.namespace);
      }
    };
    await Promise.all([...this.checks.values()].map(checkOne));
    return unchecked;
  }
}
