import { QueueConfigError } from '../errors.js';
import type { ConfigOption } from './config-option.js';
import { rejectNonObject, unknownKey, type OptionsShape } from './validate.js';

// Any option fits here: `show` is a method, so its parameter is checked both ways.
type AnyOption = ConfigOption<unknown, unknown>;
export type OptionDeclarations = Readonly<Record<string, AnyOption>>;

type ValueOf<O> = O extends { fallback(earlier: never, given: never): infer T } ? T : never;
type JsonOf<O> = O extends { show(value: never): infer J } ? J : never;
export type Flatten<T> = { [K in keyof T]: T[K] } & {};

/** A record whose keys that may hold `undefined` become optional ones. */
type OptionalUndefined<T> = Flatten<
  { [K in keyof T as undefined extends T[K] ? never : K]: T[K] } & {
    [K in keyof T as undefined extends T[K] ? K : never]?: Exclude<T[K], undefined>;
  }
>;

/** A section's checked values: what its config class holds, each a plain readonly field. */
export type SectionValues<S> = Readonly<OptionalUndefined<{ [K in keyof S]: ValueOf<S[K]> }>>;

type IsRequired<O> = O extends { readonly required: true } ? true : false;

/** What a caller may give: every option optional but the required ones. */
export type SectionOptions<S> = Flatten<
  { [K in keyof S as IsRequired<S[K]> extends true ? K : never]: ValueOf<S[K]> } & {
    [K in keyof S as IsRequired<S[K]> extends true ? never : K]?: Exclude<ValueOf<S[K]>, undefined>;
  }
>;

/** What the section's `toJSON` returns: safe to log. */
export type SectionJSON<S> = OptionalUndefined<{
  [K in keyof S]: JsonOf<S[K]>;
}>;

/** A config section declared once: its options, and the rules that tie them together. */
export interface ConfigSection<S> {
  /** Its key in `QueueOptions`, the first part of each field path. */
  readonly name: string;
  /** The class that holds it, named by the error for a section that is not an object. */
  readonly className?: string;
  /** Declaration order is the order of the README table and of `toJSON`. */
  readonly options: S;
  /** Rules between options, run once each has its value; `given` is what the caller passed. */
  readonly check?: (values: SectionValues<S>, given: Readonly<Record<string, unknown>>) => void;
}

/**
 * Returns its argument: it exists so that the compiler infers the option types. `S` has no
 * constraint here, or the compiler would type each option from it instead of from the
 * option's own declaration; `configSection` checks it.
 */
export function defineSection<S>(section: ConfigSection<S>): ConfigSection<S> {
  return section;
}

/**
 * Checks a caller's options (unknown keys, each given value, then the section's own rules) and
 * writes the values into `target` in declaration order, whatever was given, so that instances
 * of a section share one shape. `path` names the section in errors when it is an item of a
 * list (`redis.sentinel.sentinels[0]`).
 */
export function parseSection<S extends OptionDeclarations>(
  section: ConfigSection<S>,
  options: unknown,
  target: Record<string, unknown> = {},
  path: string = section.name,
): SectionValues<S> {
  const found = prepared(section);
  const { declared, index } = found;
  const shape = path === section.name ? found.shape : { ...found.shape, section: path };
  const field = (position: number) =>
    path === section.name ? declared[position]!.field : `${path}.${declared[position]!.key}`;
  rejectNonObject(options, shape);
  // Only the given keys are read by name: a caller gives a few options of many.
  const values: unknown[] = [];
  for (const key of Object.keys(options)) {
    const position = index.get(key);
    if (position === undefined) throw unknownKey(shape, key);
    const value = options[key];
    if (value !== undefined) {
      values[position] = checkGiven(declared[position]!.option, field(position), value);
    }
  }
  for (let position = 0; position < declared.length; position++) {
    const { key, option } = declared[position]!;
    let value = values[position];
    if (value === undefined && option.required) {
      throw new QueueConfigError(field(position), undefined, 'must be given');
    }
    value ??= option.fallback(target, options);
    if (value !== undefined) target[key] = value;
  }
  const checked = target as SectionValues<S>;
  section.check?.(checked, options);
  return checked;
}

interface Declared {
  key: string;
  field: string;
  option: AnyOption;
}

interface Prepared {
  declared: readonly Declared[];
  index: ReadonlyMap<string, number>;
  shape: OptionsShape;
}

// Worked out once per section: a plain retry config given at enqueue is checked per call.
const PREPARED = new WeakMap<object, Prepared>();

function prepared(section: Omit<ConfigSection<OptionDeclarations>, 'check'>): Prepared {
  let found = PREPARED.get(section);
  if (!found) {
    const declared = Object.entries(section.options).map(([key, option]) => ({
      key,
      field: `${section.name}.${key}`,
      option,
    }));
    found = {
      declared,
      index: new Map(declared.map(({ key }, position) => [key, position])),
      shape: {
        section: section.name,
        expected: section.className
          ? `an object (${section.name} options or a ${section.className})`
          : 'an object',
        allowed: new Set(declared.map(({ key }) => key)),
        mayHoldSecret: declared.some(({ option }) => option.secret),
      },
    };
    PREPARED.set(section, found);
  }
  return found;
}

function checkGiven(option: AnyOption, field: string, value: unknown): unknown {
  try {
    return option.check(field, value);
  } catch (error) {
    if (!option.secret || !(error instanceof QueueConfigError)) throw error;
    throw new QueueConfigError(error.field, option.mask(error.value), error.reason);
  }
}

/** The `toJSON` form of a section's values: secrets masked, absent options left out. */
export function sectionJSON<S extends OptionDeclarations>(
  section: ConfigSection<S>,
  values: SectionValues<S>,
): SectionJSON<S> {
  const json: Record<string, unknown> = {};
  const source = values as Readonly<Record<string, unknown>>;
  for (const { key, option } of prepared(section).declared) {
    const shown = option.show(source[key]);
    if (shown !== undefined) json[key] = shown;
  }
  return json as SectionJSON<S>;
}

/**
 * The base class of a section's config class: its constructor checks the options and freezes
 * the instance, whose fields are the checked values. Subclasses add methods, not fields.
 */
export function configSection<S extends OptionDeclarations>(
  section: ConfigSection<S>,
): new (options?: SectionOptions<S>) => SectionValues<S> {
  // A class of its own for each section, only so that the section's class can extend it.
  // oxlint-disable-next-line typescript/no-extraneous-class
  return class ConfigSectionBase {
    constructor(options?: SectionOptions<S>) {
      parseSection(section, options ?? {}, this as Record<string, unknown>);
      Object.freeze(this);
    }
  } as new (options?: SectionOptions<S>) => SectionValues<S>;
}
