import type Ajv from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { kernelErrors, PlinthError, type JsonSchema, type SchemaProblem, type ValidatorService } from '../sdk';
import { SchemaCodeCache } from './schema-code-cache';

type Flavour = 'strict' | 'coerce' | 'strict2020' | 'coerce2020';
const instances = new Map<Flavour, Ajv>();
const codeCache = new SchemaCodeCache();

/** Ajv is loaded when a schema must be compiled: a start whose validators are all in the code cache never loads it. */
function newAjv(is2020: boolean, coerce: boolean): Ajv {
  const { default: Ajv2019, _ } = require('ajv') as typeof import('ajv');
  const { default: Ajv2020 } = require('ajv/dist/2020') as typeof import('ajv/dist/2020');
  const { default: addFormats } = require('ajv-formats') as typeof import('ajv-formats');
  const options = {
    allErrors: true, useDefaults: true, strict: false, coerceTypes: coerce ? ('array' as const) : false,
    // Source kept, so that the code cache can write the validator as a module; formats named by require.
    code: { source: true, formats: _`require("ajv-formats/dist/formats").fullFormats` },
  };
  const ajv = is2020 ? new Ajv2020(options) : new Ajv2019(options);
  addFormats(ajv);
  return ajv;
}

function ajvFor(flavour: Flavour): Ajv {
  let ajv = instances.get(flavour);
  if (!ajv) instances.set(flavour, (ajv = newAjv(flavour.endsWith('2020'), flavour.startsWith('coerce'))));
  return ajv;
}

/**
 * Compiled validators, keyed by the schema's text. Ajv would cache by object identity, so a
 * reloaded plugin (new objects, same schemas) would compile again and keep every generation's
 * schemas alive; by text, a reload reuses what it had, and only changed schemas add an entry.
 */
const compiled = new Map<string, ValidateFunction>();

export function compileSchema(schema: JsonSchema, options: { coerce?: boolean; transient?: boolean } = {}): ValidateFunction {
  const is2020 = typeof schema.$schema === 'string' && schema.$schema.includes('2020-12');
  const flavour = `${options.coerce ? 'coerce' : 'strict'}${is2020 ? '2020' : ''}` as Flavour;
  if (options.transient) {
    // Ajv keeps every compiled schema (by object and by `$id`): drop it at once, or each one a user
    // sends would stay, and a second one with the same `$id` would be refused. The function keeps working.
    const ajv = ajvFor(flavour);
    const fn = ajv.compile(schema);
    ajv.removeSchema(schema);
    return fn;
  }
  const key = flavour + '\u0000' + JSON.stringify(schema);
  let fn = compiled.get(key) ?? codeCache.load(key);
  if (!fn) {
    let ajv = ajvFor(flavour);
    try {
      fn = ajv.compile(schema);
    } catch (err) {
      // Two different schemas with one `$id` cannot share an Ajv instance.
      if (!/already exists/.test((err as Error).message)) throw err;
      ajv = newAjv(is2020, !!options.coerce);
      fn = ajv.compile(schema);
    }
    codeCache.store(key, ajv, fn);
  }
  compiled.set(key, fn);
  return fn;
}

/**
 * Compiles on first use: most schemas of most plugins are never exercised right after start,
 * and compiling them all eagerly was most of the kernel's cold start.
 */
export function lazyValidator(schema: JsonSchema, options: { coerce?: boolean } = {}): ValidateFunction {
  let fn: ValidateFunction | undefined;
  const validate = ((data: unknown) => {
    if (!fn) {
      try {
        fn = compileSchema(schema, options);
      } catch (err) {
        throw kernelErrors.error('PLINTH_ERR_SCHEMA', `a registered schema is not valid JSON Schema: ${(err as Error).message}`, { cause: err });
      }
    }
    const ok = fn(data) as boolean;
    validate.errors = fn.errors;
    return ok;
  }) as ValidateFunction;
  validate.errors = null;
  return validate;
}

export function describeErrors(where: string, errs: ErrorObject[] | null | undefined): { message: string; details: SchemaProblem[] } {
  const details = (errs ?? []).map((e): SchemaProblem => {
    const field = e.instancePath ? `${where}${e.instancePath}` : where;
    if (e.keyword === 'required') return { field: `${field}/${(e.params as any).missingProperty}`, message: 'is required' };
    if (e.keyword === 'additionalProperties') return { field: `${field}/${(e.params as any).additionalProperty}`, message: 'is not allowed' };
    if (e.keyword === 'enum') return { field, message: `must be one of ${JSON.stringify((e.params as any).allowedValues)}` };
    return { field, message: e.message ?? 'is invalid' };
  });
  const message = details.map(d => `${d.field} ${d.message}`).join('; ') || `${where} is invalid`;
  return { message, details };
}

export function validationError(where: string, errs: ErrorObject[] | null | undefined): PlinthError {
  const { message, details } = describeErrors(where, errs);
  return kernelErrors.error('PLINTH_ERR_VALIDATION', message, { details });
}

/** The validator plugins get (`ctx.validator`, `coreServices.validator`): the same Ajv instances and messages as the routes'. */
export const kernelValidator: ValidatorService = {
  compile(schema, options = {}) {
    let fn: ValidateFunction;
    try {
      fn = compileSchema(schema, { transient: options.transient });
    } catch (err) {
      throw kernelErrors.error('PLINTH_ERR_SCHEMA', `not a valid JSON Schema: ${(err as Error).message}`, { cause: err });
    }
    const where = options.where ?? 'data';
    return data => (fn(data) ? { ok: true } : { ok: false, ...describeErrors(where, fn.errors) } as const);
  },
};
