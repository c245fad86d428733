/**
 * Request validation. Bodies are validated strictly: unknown fields are errors (never silently
 * dropped) and no type is coerced, so `{"text": {"$ne": null}}` or `{"limit": "5"}` in a body is a
 * 400. Query strings and path parameters arrive as text, so only they are coerced to numbers.
 */
import { OptionalKind } from '@sinclair/typebox';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';
import { NatterError } from '../errors.js';

function makeAjv(coerce: boolean) {
  const ajv = new Ajv.default({
    coerceTypes: coerce,
    useDefaults: true,
    removeAdditional: false,
    allErrors: false,
    strict: false,
  });
  addFormats.default(ajv);
  return ajv;
}

const strict = makeAjv(false);
const coercing = makeAjv(true);

export const validatorCompiler: FastifySchemaCompiler<unknown> = ({ schema, httpPart }) => {
  const ajv = httpPart === 'body' ? strict : coercing;
  const validate = ajv.compile(schema as object);
  if (httpPart !== 'body' || !(OptionalKind in (schema as object))) return validate;
  // A body schema wrapped in `Type.Optional` may be left out; fastify validates a missing body as null.
  const optional = (data: unknown): boolean => {
    if (data === null) return true;
    const ok = validate(data) as boolean;
    optional.errors = validate.errors;
    return ok;
  };
  optional.errors = null as ValidateFunction['errors'];
  return optional;
};

/** Turns the first Ajv error into a message naming the field, e.g. `body.text must be string`. */
export function validationError(part: string, errors: ErrorObject[]): NatterError {
  const e = errors[0];
  if (!e) return new NatterError('NATTER_REQUEST_INVALID');
  const path = e.instancePath.replace(/^\//, '').replaceAll('/', '.');
  let field = path ? `${part}.${path}` : part;
  let reason = e.message ?? 'is invalid';
  if (e.keyword === 'additionalProperties') {
    const extra = String((e.params as { additionalProperty: string }).additionalProperty);
    field = `${field}.${extra}`;
    reason = 'is not a known field';
  } else if (e.keyword === 'required') {
    field = `${field}.${String((e.params as { missingProperty: string }).missingProperty)}`;
    reason = 'is required';
  } else if (e.keyword === 'anyOf' || e.keyword === 'oneOf') {
    reason = 'does not match any allowed shape';
  }
  return new NatterError('NATTER_REQUEST_INVALID', `${field} ${reason}`, { field });
}
