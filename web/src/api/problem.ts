/** RFC 9457 problem+json errors from the Nubes server, and turning any failed call into a message. */
import type { components } from "./schema";

/** One invalid field of a 422 problem: where it is, what is wrong, and a stable error type. */
export type FieldError = components["schemas"]["FieldError"];

/** The body of every Nubes error response (`application/problem+json`); `type` is stable. */
export type Problem = components["schemas"]["Problem"];

/** Why a call failed: the server said no, the server could not be reached, or it answered nonsense. */
export type ApiErrorKind = "problem" | "unreachable" | "unexpected";

/** A failed API call, with a message a person can read. */
export class ApiError extends Error {
  readonly kind: ApiErrorKind;
  readonly status: number | null;
  readonly problem: Problem | null;
  /** Seconds to wait before trying again, from a 429's Retry-After header. */
  readonly retryAfter: number | null;

  constructor(kind: ApiErrorKind, message: string, status: number | null = null, problem: Problem | null = null, retryAfter: number | null = null) {
    super(message);
    this.name = "ApiError";
    this.kind = kind;
    this.status = status;
    this.problem = problem;
    this.retryAfter = retryAfter;
  }

  /** The messages of the field errors whose location ends at `field` (e.g. every password-policy reason). */
  fieldMessages(field: string): string[] {
    return (this.problem?.errors ?? []).filter((error) => error.loc.at(-1) === field).map((error) => error.msg);
  }
}

export const UNREACHABLE_MESSAGE = "Cannot reach the Nubes server. Check that `make run` is running.";

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** True when `value` looks like a problem+json body. */
export function isProblem(value: unknown): value is Problem {
  return isRecord(value) && typeof value.title === "string" && typeof value.status === "number";
}

/** "body.email: value is not a valid email address" — drops the leading "body"/"query" location. */
function describeFieldError(error: FieldError): string {
  const where = error.loc.filter((part, index) => !(index === 0 && ["body", "query", "path", "header"].includes(String(part))));
  return where.length > 0 ? `${where.join(".")}: ${error.msg}` : error.msg;
}

/** A one-paragraph, user-readable message for a problem: its detail (or title) plus any field errors. */
export function problemMessage(problem: Problem): string {
  const head = problem.detail?.trim() ? problem.detail.trim() : problem.title;
  const fields = problem.errors?.map(describeFieldError) ?? [];
  return fields.length > 0 ? `${head} (${fields.join("; ")})` : head;
}

/** Retry-After in seconds (only the delta-seconds form; Nubes never sends a date). */
function retryAfterSeconds(response: Response): number | null {
  const value = Number(response.headers.get("Retry-After") ?? "");
  return Number.isFinite(value) && value > 0 ? Math.ceil(value) : null;
}

/** Build the ApiError for a non-2xx response whose body openapi-fetch already parsed (or left as text). */
export function errorFromResponse(response: Response, body: unknown): ApiError {
  if (isProblem(body)) {
    return new ApiError("problem", problemMessage(body), response.status, body, retryAfterSeconds(response));
  }
  // A proxy in front of a stopped server answers 502/503/504 without a problem body.
  if ([502, 503, 504].includes(response.status)) {
    return new ApiError("unreachable", UNREACHABLE_MESSAGE, response.status);
  }
  const status = `${response.status}${response.statusText ? ` ${response.statusText}` : ""}`;
  return new ApiError("unexpected", `The server answered with an unexpected error (${status}).`, response.status);
}

/** Turn whatever a failed call threw into an ApiError (fetch rejects with TypeError when offline). */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof TypeError) return new ApiError("unreachable", UNREACHABLE_MESSAGE);
  // A 200 that is not JSON: something other than the Nubes API answered (a static server, a captive portal).
  if (error instanceof SyntaxError) return new ApiError("unreachable", UNREACHABLE_MESSAGE);
  if (error instanceof DOMException && error.name === "AbortError") {
    return new ApiError("unreachable", "The request was cancelled before the server answered.");
  }
  return new ApiError("unexpected", error instanceof Error ? error.message : "Something went wrong.");
}
