import {
  checkBoolean,
  checkList,
  checkNumber,
  checkOneOf,
  checkString,
  formatDuration,
  numberBounds,
  type ForbiddenCharacters,
  type NumberRule,
} from './validate.js';

/**
 * One option of a config section, declared once: how a given value is checked, the value of
 * an omitted one, how `toJSON` shows it and its line in the README. `T` is the checked value,
 * with `undefined` when the option has no default; `J` is what `toJSON` shows.
 */
export interface ConfigOption<T, J = T> {
  /** README: what the option does. */
  readonly description: string;
  /** README: the values it accepts. */
  readonly accepts: string;
  /** README: its default, in words. */
  readonly defaultText: string;
  /** Shown masked by `toJSON` and in errors. */
  readonly secret: boolean;
  /** Checks a value that was given (never `undefined`). */
  check(field: string, value: unknown): T;
  /**
   * The value of an omitted option, from the options declared before it (given or not) and
   * from what the caller gave.
   */
  fallback(earlier: Readonly<Record<string, unknown>>, given: Readonly<Record<string, unknown>>): T;
  /** What `toJSON` shows; `undefined` leaves the key out. */
  show(value: T): J;
  /** What an error may show of a bad value: the value itself unless the option is secret. */
  mask(value: unknown): unknown;
  /** It has no default: a section refuses options that leave it out. */
  readonly required?: boolean;
  /** A section of options inside this one (`redis.sentinel`), or inside each of its items. */
  readonly nested?: { readonly options: object; readonly list: boolean };
}

/** An option the caller must give: its value is never `undefined`. */
export function required<T, J>(
  declared: ConfigOption<T, J>,
): ConfigOption<Exclude<T, undefined>, J> & { readonly required: true } {
  // The section never asks a required option for a fallback: it refuses the options instead.
  return {
    ...(declared as ConfigOption<Exclude<T, undefined>, J>),
    defaultText: 'required',
    required: true,
  };
}

/** A default computed from other options, with the words the README shows for it. */
interface DerivedDefault<T> {
  readonly text: string;
  // `never`: each declaration names the fields it reads, typed at the place it is written.
  readonly derive: (earlier: never, given: never) => T;
}

/**
 * A default computed from the options declared before this one (`earlier`, given or not) or
 * from what the caller gave (`given`, already checked).
 */
export function derived<T, E, G>(
  text: string,
  derive: (earlier: E, given: G) => T,
): DerivedDefault<T> {
  return { text, derive };
}

/** What every option declaration says besides its rule. */
export interface OptionInput<T, D, J = unknown> {
  description: string;
  /** Omitted: the option stays unset unless given. */
  default?: D;
  /** README text for a default that the value alone would not explain. */
  defaultText?: string;
  show?: (value: Value<T, D>) => J;
  /** Makes the option secret: how to show its value in `toJSON` and in errors. */
  mask?: (value: unknown) => unknown;
}

/** The value of an option: `T`, or `T | undefined` when it has no default. */
type Value<T, D> = undefined extends D ? T | undefined : T;

type Default<T> = T | DerivedDefault<T> | undefined;

interface Rule<T> {
  accepts: string;
  check(field: string, value: unknown): T;
  /** How the README writes a default value of this rule. */
  format?: (value: T) => string;
}

function option<T, D extends Default<T>, J>(
  rule: Rule<T>,
  input: OptionInput<T, D, J>,
): ConfigOption<Value<T, D>, J> {
  const { mask } = input;
  const fallback = defaultOf<T>(input.default);
  const format = rule.format ?? defaultFormat;
  return {
    description: input.description,
    accepts: rule.accepts,
    defaultText:
      input.defaultText ??
      fallback.text ??
      (fallback.value === undefined ? 'none' : format(fallback.value)),
    secret: mask !== undefined,
    check: rule.check,
    // Value<T, D> is T itself when there is a default, which the compiler cannot see here.
    fallback: (fallback.derive ?? (() => fallback.value)) as (
      earlier: unknown,
      given: unknown,
    ) => Value<T, D>,
    show: (input.show ?? mask ?? identity) as (value: Value<T, D>) => J,
    mask: mask ?? identity,
  };
}

function defaultOf<T>(given: Default<T>): {
  value?: T;
  text?: string;
  derive?: (earlier: unknown, given: unknown) => T;
} {
  if (typeof given === 'object' && given !== null && 'derive' in given) {
    // Each derived default names the fields it reads; the section passes them all.
    return { text: given.text, derive: given.derive as (earlier: unknown, given: unknown) => T };
  }
  return { value: given };
}

/** Milliseconds, strictly positive (a zero timeout would fire before any work starts). */
export function positiveDuration<D extends Default<number> = undefined, J = Value<number, D>>(
  input: OptionInput<number, D, J>,
): ConfigOption<Value<number, D>, J> {
  return option(durationRule({ min: 0, minExclusive: true }), input);
}

/** Whole milliseconds within a rule's bounds (a Redis `WAIT` timeout, a polling interval). */
export function wholeDuration<D extends Default<number> = undefined, J = Value<number, D>>(
  bounds: Omit<NumberRule, 'integer'>,
  input: OptionInput<number, D, J>,
): ConfigOption<Value<number, D>, J> {
  return option(
    { ...durationRule({ ...bounds, integer: true }), accepts: `whole ms ${numberBounds(bounds)}` },
    input,
  );
}

/** Milliseconds, zero allowed (no delay, no grace period). */
export function nonNegativeDuration<D extends Default<number> = undefined, J = Value<number, D>>(
  input: OptionInput<number, D, J>,
): ConfigOption<Value<number, D>, J> {
  return option(durationRule({ min: 0 }), input);
}

export function integerAtLeast<D extends Default<number> = undefined, J = Value<number, D>>(
  min: number,
  input: OptionInput<number, D, J>,
): ConfigOption<Value<number, D>, J> {
  return option(numberRule({ min, integer: true }, 'integer'), input);
}

export function integerBetween<D extends Default<number> = undefined, J = Value<number, D>>(
  min: number,
  max: number,
  input: OptionInput<number, D, J>,
): ConfigOption<Value<number, D>, J> {
  return option(numberRule({ min, max, integer: true }, 'integer'), input);
}

export function numberAtLeast<D extends Default<number> = undefined, J = Value<number, D>>(
  min: number,
  input: OptionInput<number, D, J>,
): ConfigOption<Value<number, D>, J> {
  return option(numberRule({ min }, 'number'), input);
}

/** A ratio between 0 and 1 inclusive. */
export function fraction<D extends Default<number> = undefined, J = Value<number, D>>(
  input: OptionInput<number, D, J>,
): ConfigOption<Value<number, D>, J> {
  return option(
    { ...numberRule({ min: 0, max: 1 }, 'number'), accepts: 'number from 0 to 1' },
    input,
  );
}

export function booleanOption<D extends Default<boolean> = undefined, J = Value<boolean, D>>(
  input: OptionInput<boolean, D, J>,
): ConfigOption<Value<boolean, D>, J> {
  return option({ accepts: 'boolean', check: checkBoolean }, input);
}

export function oneOf<const T extends string, D extends Default<T> = undefined, J = Value<T, D>>(
  allowed: readonly T[],
  input: OptionInput<T, D, J>,
): ConfigOption<Value<T, D>, J> {
  return option(
    {
      accepts: allowed.map((value) => `\`${value}\``).join(', '),
      check: (field, value) => checkOneOf(field, value, allowed),
    },
    input,
  );
}

/** A non-empty string, optionally without some characters. */
export function stringOption<D extends Default<string> = undefined, J = Value<string, D>>(
  input: OptionInput<string, D, J> & { forbidden?: ForbiddenCharacters },
): ConfigOption<Value<string, D>, J> {
  const { forbidden } = input;
  return option(
    {
      accepts: forbidden ? `string without ${forbidden.description}` : 'non-empty string',
      check: (field, value) => checkString(field, value, forbidden),
    },
    input,
  );
}

/** A frozen copy of an array whose items each pass `item`'s rule. */
export function listOf<T, D extends Default<readonly T[]> = undefined, J = Value<readonly T[], D>>(
  item: { accepts: string; check(field: string, value: unknown): T },
  input: OptionInput<readonly T[], D, J>,
): ConfigOption<Value<readonly T[], D>, J> {
  return option(
    {
      accepts: `array of ${item.accepts}`,
      check: (field, value) => checkList(field, value, item.check),
    },
    input,
  );
}

/** An option with a rule of its own (a URL, a client, a logger). */
export function customOption<T, D extends Default<T> = undefined, J = Value<T, D>>(
  rule: Rule<T>,
  input: OptionInput<T, D, J>,
): ConfigOption<Value<T, D>, J> {
  return option(rule, input);
}

/** The item rules `listOf` takes. */
export const ITEMS = {
  name: {
    accepts: 'non-empty strings',
    check: (field: string, value: unknown) => checkString(field, value),
  },
  duration: {
    accepts: 'ms >= 0',
    check: (field: string, value: unknown) => checkNumber(field, value, { min: 0 }),
  },
};

function identity<V>(value: V): V {
  return value;
}

/** README: a string as code, anything else as written. */
function defaultFormat(value: unknown): string {
  return typeof value === 'string' ? `\`${value}\`` : String(value);
}

function numberRule(rule: NumberRule, kind: string): Rule<number> {
  return {
    accepts: `${kind} ${numberBounds(rule)}`,
    check: (field, value) => checkNumber(field, value, rule),
  };
}

function durationRule(rule: NumberRule): Rule<number> {
  return {
    accepts: `ms ${numberBounds(rule)}`,
    check: (field, value) => checkNumber(field, value, rule),
    format: formatDuration,
  };
}
