// §5.1 Input limits: every route's request schemas (body, querystring, params), walked from the
// route table, must bound what a client can send besides the 1 MiB body limit:
//  - a string needs `maxLength`, or a value set (`const`/`enum`), or a format whose shape has a
//    fixed length (`uuid`, `date`), or an anchored pattern without unbounded quantifiers
//    (`^[a-z_.]{1,100}$`);
//  - an array needs `maxItems`;
//  - an object must refuse unknown fields (`additionalProperties: false`): mass assignment.
// A new route with an unbounded field fails here, naming the route and the field.
// A body whose route replaces the validator (the multipart upload, read as a stream under part,
// field and per-kind size limits) is documentation, not a control: it is listed, not walked.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSecurityApp, label, routeSchema, type JsonSchema, type SecurityApp } from './helpers.js';

const FIXED_LENGTH_FORMATS = new Set(['uuid', 'date']);
/** Routes whose body schema only documents a streamed body (their own limits apply). */
const DOCUMENTATION_ONLY_BODIES = new Set(['POST /api/v1/media']);

/** Anchored, and every quantifier has an upper bound (no *, +, {n,}). */
export function boundedPattern(pattern: string): boolean {
  if (!pattern.startsWith('^') || !pattern.endsWith('$')) return false;
  if (pattern.includes('|')) return pattern.split('|').every((alt) => boundedPattern(`${alt.startsWith('^') ? '' : '^'}${alt}${alt.endsWith('$') ? '' : '$'}`));
  const unescaped = pattern.replace(/\\./g, '');
  return !/[*+]|\{\d+,\}/.test(unescaped);
}

export function unboundedFields(schema: JsonSchema, path: string): string[] {
  const problems: string[] = [];
  const branches = [...(schema.anyOf ?? []), ...(schema.oneOf ?? []), ...(schema.allOf ?? [])];
  for (const [i, b] of branches.entries()) problems.push(...unboundedFields(b, `${path}|${i}`));
  const types = ([] as string[]).concat(schema.type ?? []);
  if (types.includes('string') && schema.const === undefined && !schema.enum) {
    const bounded =
      schema.maxLength !== undefined ||
      (schema.format !== undefined && FIXED_LENGTH_FORMATS.has(schema.format)) ||
      (schema.pattern !== undefined && boundedPattern(schema.pattern));
    if (!bounded) problems.push(`${path}: string without maxLength`);
  }
  if (types.includes('array')) {
    if (schema.maxItems === undefined) problems.push(`${path}: array without maxItems`);
    if (schema.items) problems.push(...unboundedFields(schema.items, `${path}[]`));
  }
  if (types.includes('object')) {
    if (schema.additionalProperties !== false) problems.push(`${path}: object accepts unknown fields`);
    for (const [key, child] of Object.entries(schema.properties ?? {})) problems.push(...unboundedFields(child, `${path}.${key}`));
  }
  return problems;
}

let t: SecurityApp;
beforeAll(async () => {
  t = await createSecurityApp();
});
afterAll(() => t.close());

describe('request schemas are bounded', () => {
  it('the rule itself', () => {
    expect(boundedPattern('^[a-z_.]{1,100}$')).toBe(true);
    expect(boundedPattern('^[a-z]+$')).toBe(false);
    expect(boundedPattern('[a-z]{1,3}')).toBe(false);
    expect(boundedPattern('^a{2,}$')).toBe(false);
    expect(unboundedFields({ type: 'object', additionalProperties: false, properties: { a: { type: 'string' } } }, 'body')).toEqual([
      'body.a: string without maxLength',
    ]);
    expect(unboundedFields({ type: 'array', items: { type: 'string', format: 'uuid' } }, 'q')).toEqual(['q: array without maxItems']);
    expect(unboundedFields({ type: ['string', 'null'], maxLength: 5 }, 'x')).toEqual([]);
  });

  it('every string has a bound, every array a maxItems, every object refuses unknown fields', () => {
    const problems: string[] = [];
    let walked = 0;
    const documentationOnly: string[] = [];
    for (const r of t.routes) {
      if (r.method === 'HEAD') continue; // the same schemas as the GET
      for (const part of ['body', 'querystring', 'params'] as const) {
        const schema = routeSchema(r, part);
        if (!schema) continue;
        if (part === 'body' && r.options.validatorCompiler) {
          documentationOnly.push(label(r));
          continue;
        }
        walked++;
        problems.push(...unboundedFields(schema, `${label(r)} ${part}`));
      }
    }
    expect(walked).toBeGreaterThan(25);
    expect(problems).toEqual([]);
    for (const route of documentationOnly) expect(DOCUMENTATION_ONLY_BODIES, `${route} does not validate its body`).toContain(route);
  });
});
