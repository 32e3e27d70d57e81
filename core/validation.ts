import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { PlinthError, type JsonSchema } from '../sdk';

/**
 * One Ajv per owner (kernel, or a plugin generation): Ajv caches compiled schemas by object
 * identity forever, so a shared instance would keep every reloaded generation's schemas alive.
 */
export class SchemaValidator {
  private readonly strict = new Ajv({ allErrors: true, useDefaults: true, strict: false });
  private coercing: Ajv | undefined;

  constructor() {
    addFormats(this.strict);
  }

  compile(schema: JsonSchema, options: { coerce?: boolean } = {}): ValidateFunction {
    if (!options.coerce) return this.strict.compile(schema);
    if (!this.coercing) {
      this.coercing = new Ajv({ allErrors: true, useDefaults: true, coerceTypes: 'array', strict: false });
      addFormats(this.coercing);
    }
    return this.coercing.compile(schema);
  }
}

export function describeErrors(where: string, errs: ErrorObject[] | null | undefined): { message: string; details: unknown[] } {
  const details = (errs ?? []).map(e => {
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
  return new PlinthError(400, 'PLINTH_ERR_VALIDATION', message, details);
}
