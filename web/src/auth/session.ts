/** Who is signed in, as the UI sees it: the auth context, `useAuth()` / `useMe()`, and permission checks. */
import { createContext, useContext } from "react";

import type { Me } from "../api/identity";
import type { ApiError } from "../api/problem";

/**
 * - `loading`: the first answer of /api/users/me is not in yet.
 * - `signed-in`: `me` is the user, their tenant, roles and permissions.
 * - `signed-out`: no session — never had one (`anonymous`), it ended under the user (`expired`: revoked,
 *   deactivated, timed out), or the user signed out (`signed-out`).
 * - `unreachable`: the server did not answer, so we cannot tell.
 */
export type SignedOutReason = "anonymous" | "expired" | "signed-out";

export type AuthState =
  | { status: "loading" }
  | { status: "signed-in"; me: Me }
  | { status: "signed-out"; reason: SignedOutReason }
  | { status: "unreachable"; error: ApiError };

export interface Auth {
  state: AuthState;
  /** Ask the server who we are (after signing in, or to re-check on navigation). */
  reload: () => Promise<void>;
  /** Sign out on the server, then forget the user. */
  signOut: () => Promise<void>;
}

export const AuthContext = createContext<Auth | null>(null);

export function useAuth(): Auth {
  const auth = useContext(AuthContext);
  if (auth === null) throw new Error("useAuth() outside <AuthProvider>");
  return auth;
}

/** The signed-in user; only for components rendered behind <RequireAuth>. */
export function useMe(): Me {
  const { state } = useAuth();
  if (state.status !== "signed-in") throw new Error("useMe() needs a signed-in user (render it behind <RequireAuth>)");
  return state.me;
}

/** Whether `me` holds `code` exactly. */
export function can(me: Me, code: string): boolean {
  return me.permissions.includes(code);
}

/** Whether `me` holds any permission starting with `prefix` (e.g. "admin."). */
export function canAny(me: Me, prefix: string): boolean {
  return me.permissions.some((code) => code.startsWith(prefix));
}

/** "Ada Lovelace", or the username when no display name is set. */
export function displayName(user: Me["user"]): string {
  return user.display_name.trim() || user.username;
}

/** Only a path on this site is a safe place to go after signing in (not `//evil.example`, not /login itself). */
export function safeNext(next: string | null): string {
  if (next === null || !next.startsWith("/") || next.startsWith("//") || next.startsWith("/\\")) return "/";
  if (next === "/login" || next.startsWith("/login?")) return "/";
  return next;
}
