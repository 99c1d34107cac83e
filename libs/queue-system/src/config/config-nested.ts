import type { ConfigOption, OptionInput } from './config-option.js';
import { customOption, listOf } from './config-option.js';
import {
  parseSection,
  sectionJSON,
  type ConfigSection,
  type OptionDeclarations,
  type SectionJSON,
  type SectionValues,
} from './config-section.js';
import { checkString, isObject } from './validate.js';

/*
 * Options made of options: a section inside a section (`redis.sentinel`), a list of sections
 * (its `sentinels`) and the secrets they hold. The inner section is declared once like any
 * other, so its keys, checks, masking and README rows come from that declaration.
 */

export const MASK = '****';

type NestedInput<S, J> = Pick<OptionInput<SectionValues<S>, undefined, J>, 'description'> & {
  defaultText?: string;
};

/** A password or other credential: a non-empty string, shown as `****`, never in an error. */
export function secretString(input: {
  description: string;
}): ConfigOption<string | undefined, typeof MASK | undefined> {
  return customOption(
    { accepts: 'non-empty string', check: (field, value) => checkString(field, value) },
    {
      ...input,
      mask: () => MASK,
      show: (value): typeof MASK | undefined => (value === undefined ? undefined : MASK),
    },
  );
}

/** An object option whose keys are the inner section's options. */
export function sectionOption<S extends OptionDeclarations>(
  section: ConfigSection<S>,
  input: NestedInput<S, SectionJSON<S>>,
): ConfigOption<SectionValues<S> | undefined, SectionJSON<S> | undefined> {
  const secret = hasSecret(section);
  const option = customOption(
    {
      accepts: `\`${brief(section)}\``,
      check: (field, value) => checkNested(section, field, value),
    },
    {
      ...input,
      show: (value): SectionJSON<S> | undefined => value && sectionJSON(section, value),
      ...(secret && { mask: (value: unknown) => maskNested(section, value) }),
    },
  );
  return { ...option, nested: { options: section.options, list: false } };
}

/** An array option whose items are each the inner section's options. */
export function listOfSections<S extends OptionDeclarations>(
  section: ConfigSection<S>,
  input: NestedInput<S, unknown>,
): ConfigOption<readonly SectionValues<S>[] | undefined> {
  const item = {
    accepts: `\`${brief(section)}\``,
    check: (field: string, value: unknown) => checkNested(section, field, value),
  };
  return { ...listOf(item, input), nested: { options: section.options, list: true } };
}

function checkNested<S extends OptionDeclarations>(
  section: ConfigSection<S>,
  field: string,
  value: unknown,
): SectionValues<S> {
  return Object.freeze(parseSection(section, value, {}, field));
}

/** `{ name, sentinels: [{ host, port }], password? }`: the keys, optional ones marked. */
export function brief(section: { options: OptionDeclarations }): string {
  const keys = Object.entries(section.options).map(([key, option]) => {
    const name = option.required ? key : `${key}?`;
    const nested = option.nested as { options: OptionDeclarations; list: boolean } | undefined;
    if (!nested) return name;
    const inner = brief(nested);
    return `${name}: ${nested.list ? `[${inner}]` : inner}`;
  });
  return `{ ${keys.join(', ')} }`;
}

function hasSecret(section: { options: OptionDeclarations }): boolean {
  return Object.values(section.options).some((option) => option.secret);
}

/** The given object with each secret key masked, for an error that would show it. */
export function maskNested(section: { options: OptionDeclarations }, value: unknown): unknown {
  if (!isObject(value)) return value;
  const masked: Record<string, unknown> = { ...value };
  for (const [key, option] of Object.entries(section.options)) {
    if (option.secret && masked[key] !== undefined) masked[key] = option.mask(masked[key]);
  }
  return masked;
}
