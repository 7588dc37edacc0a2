/** Query hooks of identity and access: admin lists (users, roles, groups, tenants, audit, registration) and the account page's own credentials. */
import { keepPreviousData, useQuery } from "@tanstack/react-query";

import { listGroupMembers, listGroups, listMyAppPasswords, listMyTokens, listPermissions, listRoles, listTenants } from "./access";
import { listAuditEvents, listMySessions, listUsers, type AuditQuery } from "./identity";
import { asApiError } from "./queryClient";
import { identityKeys } from "./queryKeys";
import { getAuthOptions, getMyTotp, getRegistrationSettings, listMyPasskeys } from "./security";

/** One page of the tenant's users; the last page stays shown while the next one loads. */
export function useUserPage(query: { q?: string; limit: number; offset: number }) {
  return useQuery({ queryKey: identityKeys.userPage(query), queryFn: () => asApiError(listUsers(query)), placeholderData: keepPreviousData });
}

/** Users matching `q` (nothing is asked for while `q` is empty). */
export function useUserSearch(q: string, limit: number) {
  const query = { q, limit, offset: 0 };
  return useQuery({ queryKey: identityKeys.userPage(query), queryFn: () => asApiError(listUsers(query)), enabled: q !== "" });
}

/** The tenant's roles (not asked for when `enabled` is false: listing them takes admin.roles). */
export function useRoles(enabled = true) {
  return useQuery({ queryKey: identityKeys.roles, queryFn: () => asApiError(listRoles()), enabled });
}

export function usePermissions() {
  return useQuery({ queryKey: identityKeys.permissions, queryFn: () => asApiError(listPermissions()) });
}

export function useGroups() {
  return useQuery({ queryKey: identityKeys.groups, queryFn: () => asApiError(listGroups()) });
}

export function useGroupMembers(groupId: string) {
  return useQuery({ queryKey: identityKeys.groupMembers(groupId), queryFn: () => asApiError(listGroupMembers(groupId)) });
}

export function useTenants() {
  return useQuery({ queryKey: identityKeys.tenants, queryFn: () => asApiError(listTenants()) });
}

/** One page of the audit log; the last page stays shown while the next one loads. */
export function useAuditPage(query: Omit<AuditQuery, "format">) {
  return useQuery({ queryKey: identityKeys.auditPage(query), queryFn: () => asApiError(listAuditEvents(query)), placeholderData: keepPreviousData });
}

export function useRegistrationSettings() {
  return useQuery({ queryKey: identityKeys.registration, queryFn: () => asApiError(getRegistrationSettings()) });
}

/** How one may sign in and register here (public: the login and sign-up pages ask before anyone is signed in). */
export function useAuthOptions() {
  return useQuery({ queryKey: identityKeys.authOptions, queryFn: () => asApiError(getAuthOptions()) });
}

export function useMySessions() {
  return useQuery({ queryKey: identityKeys.sessions, queryFn: () => asApiError(listMySessions()) });
}

export function useMyTokens() {
  return useQuery({ queryKey: identityKeys.tokens, queryFn: () => asApiError(listMyTokens()) });
}

export function useMyAppPasswords() {
  return useQuery({ queryKey: identityKeys.appPasswords, queryFn: () => asApiError(listMyAppPasswords()) });
}

export function useMyPasskeys() {
  return useQuery({ queryKey: identityKeys.passkeys, queryFn: () => asApiError(listMyPasskeys()) });
}

export function useMyTotp() {
  return useQuery({ queryKey: identityKeys.totp, queryFn: () => asApiError(getMyTotp()) });
}
