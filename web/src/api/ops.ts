/** Server health, readiness and version (the `ops` domain), typed from the generated schema. */
import { api, unwrap } from "./client";
import type { paths } from "./schema";

type JsonOf<R> = R extends { content: { "application/json": infer T } } ? T : never;

export type Health = JsonOf<paths["/api/health"]["get"]["responses"][200]>;
export type Readiness = JsonOf<paths["/api/ready"]["get"]["responses"][200]>;
export type ReadinessCheck = Readiness["checks"][string];
export type VersionInfo = JsonOf<paths["/api/version"]["get"]["responses"][200]>;

function isReadiness(body: unknown): body is Readiness {
  return typeof body === "object" && body !== null && "status" in body && "checks" in body;
}

export function getHealth(signal?: AbortSignal): Promise<Health> {
  return unwrap(api.GET("/api/health", { signal }));
}

/** Readiness answers 503 with the same body when a check fails; that is data, not an error. */
export function getReadiness(signal?: AbortSignal): Promise<Readiness> {
  return unwrap(api.GET("/api/ready", { signal }), (response, body) =>
    response.status === 503 && isReadiness(body) ? body : undefined,
  );
}

export function getVersion(signal?: AbortSignal): Promise<VersionInfo> {
  return unwrap(api.GET("/api/version", { signal }));
}
