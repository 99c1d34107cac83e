import type { StandardSchemaV1 } from '@standard-schema/spec';
import { isThenable } from '../worker/job-attempt.js';

/** A schema's verdict on a value: its output, or the issues as `path: message` lines. */
export type SchemaVerdict = { ok: true; value: unknown } | { ok: false; issues: string[] };

/**
 * Runs a Standard Schema on `value`; synchronous when the schema is. A schema that throws is
 * a verdict too: its error is named by its class only, since its message may quote the value.
 */
export function checkSchema(
  schema: StandardSchemaV1,
  value: unknown,
): SchemaVerdict | Promise<SchemaVerdict> {
  let result: ReturnType<StandardSchemaV1['~standard']['validate']>;
  try {
    result = schema['~standard'].validate(value);
  } catch (error) {
    return thrown(error);
  }
  if (!isThenable(result)) return verdict(result, value);
  return Promise.resolve(result).then((settled) => verdict(settled, value), thrown);
}

/** The issues on one line, for an error message or a dead letter's reason. */
export function issuesText(issues: readonly string[]): string {
  return issues.join('; ');
}

function verdict(result: StandardSchemaV1.Result<unknown>, value: unknown): SchemaVerdict {
  if (!result.issues) return { ok: true, value: result.value };
  return { ok: false, issues: result.issues.map((issue) => describeIssue(issue, value)) };
}

function thrown(error: unknown): SchemaVerdict {
  const kind = error instanceof Error ? error.name : typeof error;
  return { ok: false, issues: [`(root): the schema threw (${kind})`] };
}

/**
 * `path: message`. Some libraries quote what they received ("received \"ada@...\""): that part
 * becomes the received value's type, so no payload reaches an error or a log line.
 */
function describeIssue(issue: StandardSchemaV1.Issue, value: unknown): string {
  const path = (issue.path ?? []).map((segment) =>
    typeof segment === 'object' ? segment.key : segment,
  );
  const message = issue.message.replace(
    /\breceived\b.*$/is,
    `received ${typeName(valueAt(value, path))}`,
  );
  return `${path.length ? path.map(String).join('.') : '(root)'}: ${message}`;
}

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let at = value;
  for (const key of path) {
    if (typeof at !== 'object' || at === null) return undefined;
    at = (at as Record<PropertyKey, unknown>)[key];
  }
  return at;
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}
