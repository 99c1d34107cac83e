import { QueueConfigError } from '../errors.js';

/*
 * Every config check lives here so that each rule (and its error message) is written once.
 * A helper takes the dotted field path, the raw value and a fallback used when the value is
 * `undefined`; passing `undefined` as the fallback keeps the field optional.
 */

interface NumberRule {
  min: number;
  /** `min` itself is refused (durations that must be > 0). */
  minExclusive?: boolean;
  max?: number;
  integer?: boolean;
}

function checkNumber<F extends number | undefined>(
  field: string,
  value: unknown,
  fallback: F,
  rule: NumberRule,
): number | F {
  if (value === undefined) return fallback;
  const kind = rule.integer ? 'an integer' : 'a finite number';
  const lower = `${rule.minExclusive ? '>' : '>='} ${rule.min}`;
  const expected =
    rule.max === undefined ? `${kind} ${lower}` : `${kind} ${lower} and <= ${rule.max}`;
  const valid =
    typeof value === 'number' &&
    (rule.integer ? Number.isInteger(value) : Number.isFinite(value)) &&
    (rule.minExclusive ? value > rule.min : value >= rule.min) &&
    (rule.max === undefined || value <= rule.max);
  if (!valid) throw new QueueConfigError(field, value, `must be ${expected}`);
  return value;
}

/** Milliseconds, strictly positive (a zero timeout would fire before any work starts). */
export function positiveDuration<F extends number | undefined>(
  field: string,
  value: unknown,
  fallback: F,
): number | F {
  return checkNumber(field, value, fallback, { min: 0, minExclusive: true });
}

/** Milliseconds, zero allowed (no delay, no grace period). */
export function nonNegativeDuration<F extends number | undefined>(
  field: string,
  value: unknown,
  fallback: F,
): number | F {
  return checkNumber(field, value, fallback, { min: 0 });
}

export function integerAtLeast<F extends number | undefined>(
  field: string,
  value: unknown,
  min: number,
  fallback: F,
): number | F {
  return checkNumber(field, value, fallback, { min, integer: true });
}

export function numberAtLeast<F extends number | undefined>(
  field: string,
  value: unknown,
  min: number,
  fallback: F,
): number | F {
  return checkNumber(field, value, fallback, { min });
}

/** A ratio between 0 and 1 inclusive. */
export function fraction<F extends number | undefined>(
  field: string,
  value: unknown,
  fallback: F,
): number | F {
  return checkNumber(field, value, fallback, { min: 0, max: 1 });
}

export function booleanOption(field: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new QueueConfigError(field, value, 'must be a boolean');
  return value;
}

export function oneOf<const T extends string>(
  field: string,
  value: unknown,
  allowed: readonly T[],
  fallback: T,
): T {
  if (value === undefined) return fallback;
  const match = allowed.find((candidate) => candidate === value);
  if (match === undefined) {
    throw new QueueConfigError(field, value, `must be one of ${allowed.map(quote).join(', ')}`);
  }
  return match;
}

/** A characters rule for strings that end up inside Redis keys. */
export interface ForbiddenCharacters {
  pattern: RegExp;
  description: string;
}

export function nonEmptyString(
  field: string,
  value: unknown,
  fallback: string,
  forbidden?: ForbiddenCharacters,
): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || value.length === 0) {
    throw new QueueConfigError(field, value, 'must be a non-empty string');
  }
  if (forbidden && forbidden.pattern.test(value)) {
    throw new QueueConfigError(field, value, `must not contain ${forbidden.description}`);
  }
  return value;
}

/**
 * An array checked item by item; an item's error names its index (`retry.delays[2]`) so the
 * user sees which entry is wrong. Items are never `undefined` by the time `checkItem` runs,
 * so its fallback is never used. The result is a frozen copy, so later mutation of the
 * caller's array cannot change a validated config.
 */
export function listOf<T, F extends readonly T[] | undefined>(
  field: string,
  value: unknown,
  checkItem: (itemField: string, item: unknown) => T,
  fallback: F,
): readonly T[] | F {
  if (value === undefined) return fallback;
  if (!Array.isArray(value)) throw new QueueConfigError(field, value, 'must be an array');
  const items: unknown[] = value;
  // Array.from visits holes too; an undefined entry must not fall back to a default.
  return Object.freeze(
    Array.from(items, (item, index) => {
      const itemField = `${field}[${index}]`;
      if (item === undefined) throw new QueueConfigError(itemField, item, 'must be set');
      return checkItem(itemField, item);
    }),
  );
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Asserts that `options` is an object whose keys are all known. Typos would otherwise be
 * silently replaced by defaults; the seed's snake_case names are the likeliest ones, so a
 * key that matches a known one once case and separators are ignored gets a suggestion.
 * An empty `section` means top-level options, whose keys are their own paths.
 */
export function rejectUnknownKeys<T>(
  section: string,
  options: T,
  allowed: readonly string[],
): asserts options is T & Record<string, unknown> {
  if (!isObject(options)) {
    throw new QueueConfigError(section || 'options', options, 'must be an object');
  }
  for (const key of Object.keys(options)) {
    if (allowed.includes(key)) continue;
    const suggestion = allowed.find((known) => normalizeKey(known) === normalizeKey(key));
    const hint = suggestion
      ? `did you mean ${quote(suggestion)}?`
      : `expected one of ${allowed.map(quote).join(', ')}`;
    const field = section ? `${section}.${key}` : key;
    throw new QueueConfigError(field, options[key], `unknown option; ${hint}`);
  }
}

/** The keys of an options interface, written as a record so the compiler flags a missing one. */
export function keysOf<T extends object>(keys: Record<keyof T, true>): readonly string[] {
  return Object.freeze(Object.keys(keys));
}

function normalizeKey(key: string): string {
  return key.replace(/[_-]/g, '').toLowerCase();
}

function quote(text: string): string {
  return `"${text}"`;
}
