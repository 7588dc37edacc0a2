/**
 * The typed Nubes API client: same origin, paths and bodies typed from the OpenAPI schema.
 *
 * Authentication lives in httpOnly cookies the browser sends by itself; no token is ever held in
 * JavaScript. This module adds the two things cookies need: the CSRF header on writes, and one
 * refresh-and-retry when the short-lived access cookie has expired (see README.md, "Authentication").
 */
import createClient, { type Middleware } from "openapi-fetch";

import { errorFromResponse, isProblem, toApiError } from "./problem";
import type { paths } from "./schema";

const CSRF_COOKIE = "nubes_csrf";
const CSRF_HEADER = "X-CSRF-Token";
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);
/** Sign-in, refresh and sign-out check the Origin instead, and a 401 from them is an answer, not an expiry. */
const AUTH_PREFIX = "/api/auth/";

/** The value of a cookie readable by JavaScript (only `nubes_csrf` is), or null. */
function readCookie(name: string): string | null {
  for (const part of document.cookie.split(";")) {
    const [key, ...value] = part.trim().split("=");
    if (key === name) return decodeURIComponent(value.join("="));
  }
  return null;
}

/**
 * Whether this browser holds a session at all. The CSRF cookie is set with the session cookies and
 * cleared with them, so without it there is no point asking the server who we are.
 */
export function hasSessionCookie(): boolean {
  return readCookie(CSRF_COOKIE) !== null;
}

function forgetSessionCookie(): void {
  document.cookie = `${CSRF_COOKIE}=; Max-Age=0; Path=/; SameSite=Strict`;
}

/** Double-submit CSRF: the header must repeat the cookie, read at send time because refresh rotates it. */
function withCsrf(request: Request): Request {
  if (SAFE_METHODS.has(request.method)) return request;
  const token = readCookie(CSRF_COOKIE);
  if (token !== null) request.headers.set(CSRF_HEADER, token);
  return request;
}

const csrfMiddleware: Middleware = {
  onRequest({ request }) {
    return withCsrf(request);
  },
};

// --- session expiry -------------------------------------------------------------------------------

type SessionEndedListener = () => void;
const sessionEndedListeners = new Set<SessionEndedListener>();

/** Be told when the session is gone for good (refresh refused); returns the unsubscribe function. */
export function onSessionEnded(listener: SessionEndedListener): () => void {
  sessionEndedListeners.add(listener);
  return () => {
    sessionEndedListeners.delete(listener);
  };
}

let refreshing: Promise<boolean> | null = null;

async function postRefresh(): Promise<boolean> {
  try {
    return (await fetch(`${AUTH_PREFIX}refresh`, { method: "POST", credentials: "include" })).ok;
  } catch {
    return false;
  }
}

/**
 * Rotate the refresh cookie for a new access cookie. Concurrent callers in this tab share one request;
 * other tabs wait on a Web Lock, because a refresh token presented twice ends the whole session.
 * `staleCsrf` is the CSRF cookie the failed request saw: every refresh rotates it, so a different value
 * means another tab has refreshed meanwhile and the caller only needs to retry.
 */
export function refreshSession(staleCsrf: string | null = readCookie(CSRF_COOKIE)): Promise<boolean> {
  const rotate = async (): Promise<boolean> => (readCookie(CSRF_COOKIE) !== staleCsrf && hasSessionCookie() ? true : postRefresh());
  // Web Locks exist in secure contexts (https, localhost); elsewhere only this tab is serialized.
  const locks = window.isSecureContext ? (navigator.locks as LockManager | undefined) : undefined;
  const run = async (): Promise<boolean> => (locks ? await locks.request("nubes-refresh", rotate) : await rotate());
  refreshing ??= run().finally(() => {
    refreshing = null;
  });
  return refreshing;
}

// --- sudo mode -------------------------------------------------------------------------------------

const REAUTHENTICATION_REQUIRED = "urn:nubes:problem:reauthentication-required";

/** Asks the person to confirm it's them (the methods the server offers); resolves true once they have. */
export type ReauthenticationHandler = (methods: string[]) => Promise<boolean>;
let reauthenticationHandler: ReauthenticationHandler | null = null;

/** Install the "Confirm it's you" prompt (one at a time); returns the function that removes it. */
export function onReauthenticationRequired(handler: ReauthenticationHandler): () => void {
  reauthenticationHandler = handler;
  return () => {
    if (reauthenticationHandler === handler) reauthenticationHandler = null;
  };
}

/** The methods of a `reauthentication-required` answer, or null for any other response. */
async function reauthenticationMethods(response: Response): Promise<string[] | null> {
  if (response.status !== 403) return null;
  const body: unknown = await response
    .clone()
    .json()
    .catch(() => null);
  if (!isProblem(body) || body.type !== REAUTHENTICATION_REQUIRED) return null;
  const methods = (body as { methods?: unknown }).methods;
  return Array.isArray(methods) ? methods.filter((method): method is string => typeof method === "string") : ["password"];
}

/**
 * fetch for openapi-fetch, outside /api/auth/: on a 401, refresh once and retry the request once (when
 * refresh is refused the session has ended: listeners hear it and the UI goes to /login); on a 403 asking
 * to confirm it's you, show the prompt and, once confirmed, retry the request once.
 */
async function fetchWithRefresh(input: Request): Promise<Response> {
  const isAuthCall = new URL(input.url).pathname.startsWith(AUTH_PREFIX);
  const spare = isAuthCall ? null : input.clone();
  const csrfSent = readCookie(CSRF_COOKIE);
  let response = await fetch(input);
  if (spare === null) return response;
  if (response.status === 401) {
    if (!(await refreshSession(csrfSent))) {
      forgetSessionCookie();
      for (const listener of sessionEndedListeners) listener();
      return response;
    }
    response = await fetch(withCsrf(spare.clone()));
  }
  const prompt = reauthenticationHandler;
  if (prompt === null) return response;
  const methods = await reauthenticationMethods(response);
  if (methods !== null && (await prompt(methods))) response = await fetch(withCsrf(spare.clone()));
  return response;
}

/**
 * A plain fetch with the same CSRF header and refresh-and-retry, for routes the generated schema does not
 * know yet (the hand-written clients, e.g. containerFiles.ts).
 */
export function fetchApi(input: Request): Promise<Response> {
  return fetchWithRefresh(withCsrf(input));
}

export const api = createClient<paths>({ baseUrl: "", credentials: "include", fetch: fetchWithRefresh });
api.use(csrfMiddleware);

// --- results ------------------------------------------------------------------------------------

/** The shape every openapi-fetch call resolves to. */
interface FetchResult<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/**
 * Await an openapi-fetch call and return its data, or throw an ApiError with a readable message.
 *
 * `acceptError` lets a caller keep an error status whose body is still meaningful
 * (readiness answers 503 with the same body as 200).
 */
export async function unwrap<T>(call: Promise<FetchResult<T>>, acceptError?: (response: Response, body: unknown) => T | undefined): Promise<T> {
  let result: FetchResult<T>;
  try {
    result = await call;
  } catch (error) {
    throw toApiError(error);
  }
  const { data, error, response } = result;
  if (response.ok) {
    if (data === undefined) throw errorFromResponse(response, undefined);
    return data;
  }
  const accepted = acceptError?.(response, error);
  if (accepted !== undefined) return accepted;
  throw errorFromResponse(response, error);
}

/** Like `unwrap`, for calls that answer 204 No Content: resolves when the call succeeded. */
export async function unwrapEmpty(call: Promise<FetchResult<unknown>>): Promise<void> {
  await unwrapResponse(call);
}

/** Like `unwrapEmpty`, resolving to the response itself (for what a 204 says in its headers). */
export async function unwrapResponse(call: Promise<FetchResult<unknown>>): Promise<Response> {
  let result: FetchResult<unknown>;
  try {
    result = await call;
  } catch (error) {
    throw toApiError(error);
  }
  if (!result.response.ok) throw errorFromResponse(result.response, result.error);
  return result.response;
}
