/** The typed Nubes API client: same origin, cookies included, paths and bodies typed from the OpenAPI schema. */
import createClient from "openapi-fetch";

import { errorFromResponse, toApiError } from "./problem";
import type { paths } from "./schema";

export const api = createClient<paths>({ baseUrl: "", credentials: "include" });

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
