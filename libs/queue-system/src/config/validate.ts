import { QueueConfigError } from '../errors.js';

/*
 * The rules a config value can be held to, each with the words its error message and the
 * README use. A check takes the dotted field path and a value that was given (never
 * `undefined`: an omitted option gets its default before any check runs).
 */

export interface NumberRule {
  min: number;
  /** `min` itself is refused (durations that must be > 0). */
  minExclusive?: boolean;
  max?: number;
  integer?: boolean;
}

/** The bounds of a number rule, as in `>= 1` or `>= 0 and <= 1`. */
export function numberBounds(rule: NumberRule): string {
  const lower = `${rule.minExclusive ? '>' : '>='} ${rule.min}`;
  return rule.max === undefined ? lower : `${lower} and <= ${rule.max}`;
}

export function checkNumber(field: string, value: unknown, rule: NumberRule): number {
  const valid =
    typeof value === 'number' &&
    (rule.integer ? Number.isInteger(value) : Number.isFinite(value)) &&
    (rule.minExclusive ? value > rule.min : value >= rule.min) &&
    (rule.max === undefined || value <= rule.max);
  if (!valid) {
    const kind = rule.integer ? 'an integer' : 'a finite number';
    throw new QueueConfigError(field, value, `must be ${kind} ${numberBounds(rule)}`);
  }
  return value;
}

export function checkBoolean(field: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new QueueConfigError(field, value, 'must be a boolean');
  return value;
}

export function checkOneOf<const T extends string>(
  field: string,
  value: unknown,
  allowed: readonly T[],
): T {
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

export function checkString(
  field: string,
  value: unknown,
  forbidden?: ForbiddenCharacters,
): string {
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
 * user sees which entry is wrong. The result is a frozen copy, so later mutation of the
 * caller's array cannot change a validated config.
 */
export function checkList<T>(
  field: string,
  value: unknown,
  checkItem: (itemField: string, item: unknown) => T,
): readonly T[] {
  if (!Array.isArray(value)) throw new QueueConfigError(field, value, 'must be an array');
  const items: unknown[] = value;
  // Array.from visits holes too; an undefined entry must not pass as an omitted option.
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

/** How a section's options must be given: what to name, and whether a value may be a secret. */
export interface OptionsShape {
  /** The section's path (`redis`), or '' for the top-level options. */
  section: string;
  /** What the error says is expected instead of a non-object. */
  expected: string;
  allowed: ReadonlySet<string>;
  /** A value given in place of the section may be one of its secrets: kept off the error. */
  mayHoldSecret?: boolean;
}

/**
 * Asserts that `options` is an object whose keys are all known. Typos would otherwise be
 * silently replaced by defaults.
 */
export function rejectUnknownKeys<T>(
  options: T,
  shape: OptionsShape,
): asserts options is T & Record<string, unknown> {
  rejectNonObject(options, shape);
  for (const key of Object.keys(options)) {
    if (!shape.allowed.has(key)) throw unknownKey(shape, key);
  }
}

/** A value given in place of a whole section may be its secret (a URL): only its type is named. */
export function rejectNonObject<T>(
  options: T,
  shape: OptionsShape,
): asserts options is T & Record<string, unknown> {
  if (!isObject(options)) {
    throw new QueueConfigError(shape.section || 'options', options, `must be ${shape.expected}`, {
      withhold: shape.mayHoldSecret,
    });
  }
}

/**
 * The error for a key the section does not know. The seed's snake_case names are the likeliest
 * typos, so a key that matches a known one once case and separators are ignored gets a
 * suggestion. The key is named but its value never kept: `password` is a likely one.
 */
export function unknownKey(shape: OptionsShape, key: string): QueueConfigError {
  const known = [...shape.allowed];
  const suggestion = known.find((name) => normalizeKey(name) === normalizeKey(key));
  const hint = suggestion
    ? `did you mean ${quote(suggestion)}?`
    : `expected one of ${known.map(quote).join(', ')}`;
  const field = shape.section ? `${shape.section}.${key}` : key;
  return new QueueConfigError(field, undefined, `unknown option; ${hint}`);
}

function normalizeKey(key: string): string {
  return key.replace(/[_-]/g, '').toLowerCase();
}

export function quote(text: string): string {
  return `"${text}"`;
}

const UNITS: [size: number, one: string, many: string][] = [
  [86_400_000, 'day', 'days'],
  [3_600_000, 'h', 'h'],
  [60_000, 'min', 'min'],
  [1000, 's', 's'],
];

/** `604800000` reads as `7 days`, `30000` as `30 s`. */
export function formatDuration(ms: number): string {
  for (const [size, one, many] of UNITS) {
    if (ms >= size && ms % size === 0) return `${ms / size} ${ms === size ? one : many}`;
  }
  return `${ms} ms`;
}
