/** Personal access tokens of the signed-in user, and the tenant's roles and permission catalog (admin). */
import { api, unwrap, unwrapEmpty } from "./client";
import type { components } from "./schema";

type Schemas = components["schemas"];

export type AccessToken = Schemas["AccessTokenRead"];
export type AccessTokenCreated = Schemas["AccessTokenCreated"];
export type AccessTokenCreate = Schemas["AccessTokenCreate"];
export type PermissionCode = AccessTokenCreate["scopes"][number];
export type AppPassword = Schemas["AppPasswordRead"];
export type AppPasswordCreated = Schemas["AppPasswordCreated"];
export type AppPasswordCreate = Schemas["AppPasswordCreate"];
export type Permission = Schemas["PermissionRead"];
export type Role = Schemas["RoleRead"];
export type RoleCreate = Schemas["RoleCreate"];
export type RoleUpdate = Schemas["RoleUpdate"];

/**
 * Narrows permission codes from the server (plain strings) to the codes requests accept. The server
 * checks every code again, so this is a type assertion for codes it handed out itself.
 */
export function asPermissionCodes(codes: readonly string[]): PermissionCode[] {
  return codes as PermissionCode[];
}

/** True when two lists of role names hold the same names, in any order (so a form sends roles only when they changed). */
export function sameRoleNames(a: readonly string[], b: readonly string[]): boolean {
  const set = new Set(a);
  return set.size === new Set(b).size && b.every((name) => set.has(name));
}

// --- personal access tokens ---------------------------------------------------------------------

export function listMyTokens(signal?: AbortSignal): Promise<AccessToken[]> {
  return unwrap(api.GET("/api/users/me/tokens", { signal }));
}

/** The answer holds the secret `token`: it is shown once and never again. */
export function createMyToken(token: AccessTokenCreate): Promise<AccessTokenCreated> {
  return unwrap(api.POST("/api/users/me/tokens", { body: token }));
}

export function revokeMyToken(tokenId: string): Promise<void> {
  return unwrapEmpty(api.DELETE("/api/users/me/tokens/{token_id}", { params: { path: { token_id: tokenId } } }));
}

// --- app passwords: one per device (WebDAV and sync clients, HTTP Basic) -----------------------

export function listMyAppPasswords(signal?: AbortSignal): Promise<AppPassword[]> {
  return unwrap(api.GET("/api/users/me/app-passwords", { signal }));
}

/** The answer holds the secret `password` (with the username and WebDAV address to paste): shown once. */
export function createMyAppPassword(appPassword: AppPasswordCreate): Promise<AppPasswordCreated> {
  return unwrap(api.POST("/api/users/me/app-passwords", { body: appPassword }));
}

export function revokeMyAppPassword(appPasswordId: string): Promise<void> {
  return unwrapEmpty(
    api.DELETE("/api/users/me/app-passwords/{app_password_id}", { params: { path: { app_password_id: appPasswordId } } }),
  );
}

// --- roles and permissions (admin.roles) --------------------------------------------------------

export function listPermissions(signal?: AbortSignal): Promise<Permission[]> {
  return unwrap(api.GET("/api/admin/permissions", { signal }));
}

export function listRoles(signal?: AbortSignal): Promise<Role[]> {
  return unwrap(api.GET("/api/admin/roles", { signal }));
}

export function createRole(role: RoleCreate): Promise<Role> {
  return unwrap(api.POST("/api/admin/roles", { body: role }));
}

export function updateRole(roleId: string, changes: RoleUpdate): Promise<Role> {
  return unwrap(api.PATCH("/api/admin/roles/{role_id}", { params: { path: { role_id: roleId } }, body: changes }));
}

export function deleteRole(roleId: string): Promise<void> {
  return unwrapEmpty(api.DELETE("/api/admin/roles/{role_id}", { params: { path: { role_id: roleId } } }));
}

// --- groups (admin.groups) ----------------------------------------------------------------------

export type Group = Schemas["GroupRead"];
export type GroupCreate = Schemas["GroupCreate"];
export type GroupUpdate = Schemas["GroupUpdate"];
export type GroupMember = Schemas["UserRead"];

export function listGroups(signal?: AbortSignal): Promise<Group[]> {
  return unwrap(api.GET("/api/admin/groups", { signal }));
}

export function createGroup(group: GroupCreate): Promise<Group> {
  return unwrap(api.POST("/api/admin/groups", { body: group }));
}

/** Rename a group, change its description, or replace its roles (fields left out stay as they are). */
export function updateGroup(groupId: string, changes: GroupUpdate): Promise<Group> {
  return unwrap(api.PATCH("/api/admin/groups/{group_id}", { params: { path: { group_id: groupId } }, body: changes }));
}

export function deleteGroup(groupId: string): Promise<void> {
  return unwrapEmpty(api.DELETE("/api/admin/groups/{group_id}", { params: { path: { group_id: groupId } } }));
}

export function listGroupMembers(groupId: string, signal?: AbortSignal): Promise<GroupMember[]> {
  return unwrap(api.GET("/api/admin/groups/{group_id}/members", { params: { path: { group_id: groupId } }, signal }));
}

export function addGroupMember(groupId: string, userId: string): Promise<void> {
  return unwrapEmpty(api.PUT("/api/admin/groups/{group_id}/members/{user_id}", { params: { path: { group_id: groupId, user_id: userId } } }));
}

export function removeGroupMember(groupId: string, userId: string): Promise<void> {
  return unwrapEmpty(api.DELETE("/api/admin/groups/{group_id}/members/{user_id}", { params: { path: { group_id: groupId, user_id: userId } } }));
}

// --- tenants (super-admins) ---------------------------------------------------------------------

export type Tenant = Schemas["TenantDetail"];
export type TenantCreate = Schemas["TenantCreate"];
export type TenantUpdate = Schemas["TenantUpdate"];

export function listTenants(signal?: AbortSignal): Promise<Tenant[]> {
  return unwrap(api.GET("/api/admin/tenants", { signal }));
}

export function createTenant(tenant: TenantCreate): Promise<Tenant> {
  return unwrap(api.POST("/api/admin/tenants", { body: tenant }));
}

export function updateTenant(tenantId: string, changes: TenantUpdate): Promise<Tenant> {
  return unwrap(api.PATCH("/api/admin/tenants/{tenant_id}", { params: { path: { tenant_id: tenantId } }, body: changes }));
}

/** Deletes the tenant and all its data; `slug` must repeat the tenant's slug. */
export function deleteTenant(tenantId: string, slug: string): Promise<void> {
  return unwrapEmpty(api.DELETE("/api/admin/tenants/{tenant_id}", { params: { path: { tenant_id: tenantId }, query: { confirm: slug } } }));
}
