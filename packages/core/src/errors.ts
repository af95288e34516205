/**
 * The one registry of error codes EAP returns. Codes are stable strings that clients and
 * dashboards may rely on; the HTTP status and the retriable flag travel with the code so every
 * part of the system maps an error the same way.
 */
export const ERROR_CODES = {
  MALFORMED_JSON: { status: 400, retriable: false },
  INVALID_REQUEST: { status: 400, retriable: false },
  INVALID_EVENT: { status: 400, retriable: false },
  BATCH_TOO_LARGE: { status: 400, retriable: false },
  INVALID_QUERY: { status: 400, retriable: false },
  UNAUTHORIZED: { status: 401, retriable: false },
  FORBIDDEN: { status: 403, retriable: false },
  // A browser Origin the project's allowed_origins setting does not list.
  ORIGIN_NOT_ALLOWED: { status: 403, retriable: false },
  NOT_FOUND: { status: 404, retriable: false },
  PAYLOAD_TOO_LARGE: { status: 413, retriable: false },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, retriable: false },
  RATE_LIMITED: { status: 429, retriable: true },
  // Too many queries running at once for a read key or for the API process (which one is in
  // details.limit); retriable as soon as a running query ends.
  TOO_MANY_QUERIES: { status: 429, retriable: true },
  BACKLOG_FULL: { status: 503, retriable: true },
  // One project holds its whole share of the backlog (STREAM_BACKLOG_PROJECT_PERCENT); other
  // projects are still accepted.
  PROJECT_BACKLOG_FULL: { status: 429, retriable: true },
  STREAM_UNAVAILABLE: { status: 503, retriable: true },
  DATABASE_UNAVAILABLE: { status: 503, retriable: true },
  INTERNAL: { status: 500, retriable: true },
  // A query that ran longer than QUERY_TIMEOUT_MS: the same query will likely time out again, so
  // it is not retriable as is; a narrower range or fewer series will answer.
  QUERY_TIMEOUT: { status: 504, retriable: false },
} as const satisfies Record<string, { status: number; retriable: boolean }>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** One problem with one field of the input; `path` is dotted (`properties.cart.items`). */
export interface FieldError {
  path: string;
  message: string;
}

export interface EapErrorOptions {
  details?: unknown;
  /** Seconds a client should wait before retrying (sent as `Retry-After`). */
  retryAfterSeconds?: number;
  cause?: unknown;
}

/** An error with a stable code; `status` and `retriable` come from {@link ERROR_CODES}. */
export class EapError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly retriable: boolean;
  readonly details: unknown;
  readonly retryAfterSeconds: number | undefined;

  constructor(code: ErrorCode, message: string, options: EapErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'EapError';
    this.code = code;
    this.status = ERROR_CODES[code].status;
    this.retriable = ERROR_CODES[code].retriable;
    this.details = options.details;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }

  /** The JSON body every EAP error response uses: `{"error":{"code","message","details"?}}`. */
  toBody(): ErrorBody {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.details === undefined ? {} : { details: this.details }),
      },
    };
  }
}

export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

export function isEapError(value: unknown): value is EapError {
  return value instanceof EapError;
}
