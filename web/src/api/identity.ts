/** Sign-in, the signed-in user, their sessions, and the admin calls of the identity domain. */
import { api, unwrap, unwrapEmpty } from "./client";
import type { components, paths } from "./schema";

type Schemas = components["schemas"];

export type Me = Schemas["Me"];
export type User = Schemas["UserRead"];
export type UserPage = Schemas["UserPage"];
/** A user as admins list them: with the roles assigned to them directly (not through groups). */
export type AdminUser = Schemas["UserAdminRead"];
export type UserCreate = Schemas["UserCreate"];
export type UserUpdate = Schemas["UserUpdate"];
export type Session = Schemas["SessionRead"];
export type AuditEvent = Schemas["AuditEventRead"];
export type AuditPage = Schemas["AuditPage"];
export type AuditQuery = NonNullable<paths["/api/admin/audit"]["get"]["parameters"]["query"]>;
export type AuditOutcome = NonNullable<AuditQuery["outcome"]>;

/** The roles every tenant is created with, from most to least powerful, as the backend defines them. */
export const BUILTIN_ROLES = [
  { name: "owner", description: "Everything in the tenant" },
  { name: "admin", description: "Runs the tenant: users, roles, groups, settings, audit, containers" },
  { name: "member", description: "Everyday use: files, documents, apps, workspaces, mail" },
  { name: "viewer", description: "Sees the tenant's shared content, changes nothing" },
] as const;

// --- sign-in ------------------------------------------------------------------------------------

/**
 * Sign in with a username or email. The server answers with the tokens and sets them as httpOnly
 * cookies; the body is deliberately dropped so no token ever sits in JavaScript.
 */
export async function signIn(username: string, password: string): Promise<void> {
  await unwrap(api.POST("/api/auth/login", { body: { username, password } }));
}

/** End this browser's session and clear its cookies. */
export function signOut(): Promise<void> {
  return unwrapEmpty(api.POST("/api/auth/logout"));
}

// --- the signed-in user -------------------------------------------------------------------------

export function getMe(signal?: AbortSignal): Promise<Me> {
  return unwrap(api.GET("/api/users/me", { signal }));
}

export function listMySessions(signal?: AbortSignal): Promise<Session[]> {
  return unwrap(api.GET("/api/users/me/sessions", { signal }));
}

export function endMySession(sessionId: string): Promise<void> {
  return unwrapEmpty(api.DELETE("/api/users/me/sessions/{session_id}", { params: { path: { session_id: sessionId } } }));
}

/** Every other session of the user ends when this succeeds. */
export function changeMyPassword(currentPassword: string, newPassword: string): Promise<void> {
  return unwrapEmpty(api.POST("/api/users/me/password", { body: { current_password: currentPassword, new_password: newPassword } }));
}

// --- admin --------------------------------------------------------------------------------------

export function listUsers(query: { q?: string; limit: number; offset: number }, signal?: AbortSignal): Promise<UserPage> {
  return unwrap(api.GET("/api/admin/users", { params: { query }, signal }));
}

export function createUser(user: UserCreate): Promise<User> {
  return unwrap(api.POST("/api/admin/users", { body: user }));
}

export function updateUser(userId: string, changes: UserUpdate): Promise<User> {
  return unwrap(api.PATCH("/api/admin/users/{user_id}", { params: { path: { user_id: userId } }, body: changes }));
}

export function listAuditEvents(query: Omit<AuditQuery, "format">, signal?: AbortSignal): Promise<AuditPage> {
  // The operation also answers text/csv (format=csv), which types its 200 as unknown; without `format` it is JSON.
  return unwrap(api.GET("/api/admin/audit", { params: { query }, signal })) as Promise<AuditPage>;
}

/** The CSV export of every event matching `query`, as a same-origin URL (the cookies authenticate it). */
export function auditCsvUrl(query: Omit<AuditQuery, "limit" | "offset" | "format">): string {
  const params = new URLSearchParams({ format: "csv" });
  for (const [key, value] of Object.entries(query)) {
    if (typeof value === "string" && value !== "") params.set(key, value);
  }
  return `/api/admin/audit?${params.toString()}`;
}
