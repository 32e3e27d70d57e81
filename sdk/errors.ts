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

  /** `options.cause`: the error this one wraps, so a log shows the whole chain. */
  constructor(status: number, code: string, message: string, details?: unknown, headers?: Record<string, string>, options?: { cause?: unknown }) {
    super(message, options);
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
