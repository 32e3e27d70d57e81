/**
 * The one error type of Plinth. Thrown anywhere (kernel or plugin), it becomes the JSON body
 * `{ "error": { "code", "message", "details" } }` with its status. Codes are stable strings
 * (`PLINTH_ERR_…`) meant for both logs and clients, in the spirit of Fastify's `FST_ERR_…`.
 */
export class PlinthError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details?: unknown;
  readonly headers?: Record<string, string>;

  constructor(status: number, code: string, message: string, details?: unknown, headers?: Record<string, string>) {
    super(message);
    this.name = 'PlinthError';
    this.status = status;
    this.code = code;
    this.details = details;
    this.headers = headers;
  }

  toJSON(): { error: { code: string; message: string; details?: unknown } } {
    return { error: { code: this.code, message: this.message, ...(this.details === undefined ? {} : { details: this.details }) } };
  }
}

/** Duck-typed so that an error thrown by a plugin with its own copy of the SDK still counts. */
export function isPlinthError(err: unknown): err is PlinthError {
  return !!err && typeof err === 'object' && typeof (err as PlinthError).status === 'number'
    && typeof (err as PlinthError).code === 'string' && (err as Error).name === 'PlinthError';
}

export const errors = {
  badRequest: (message: string, details?: unknown) => new PlinthError(400, 'PLINTH_ERR_BAD_REQUEST', message, details),
  validation: (message: string, details?: unknown) => new PlinthError(400, 'PLINTH_ERR_VALIDATION', message, details),
  unauthorized: (message = 'authentication required: send a bearer token') => new PlinthError(401, 'PLINTH_ERR_UNAUTHORIZED', message),
  forbidden: (message: string) => new PlinthError(403, 'PLINTH_ERR_FORBIDDEN', message),
  notFound: (what: string) => new PlinthError(404, 'PLINTH_ERR_NOT_FOUND', `${what} not found`),
  conflict: (message: string, details?: unknown) => new PlinthError(409, 'PLINTH_ERR_CONFLICT', message, details),
  unprocessable: (message: string, details?: unknown) => new PlinthError(422, 'PLINTH_ERR_UNPROCESSABLE', message, details),
  unavailable: (message: string) => new PlinthError(503, 'PLINTH_ERR_UNAVAILABLE', message),
};
