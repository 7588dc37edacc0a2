/** The route guard: renders its child routes for a signed-in user, sends anyone else to /login?next=…. */
import { useEffect, useRef } from "react";
import { Navigate, Outlet, useLocation } from "react-router";

import { buttonClass } from "../components/Button";
import { Skeleton } from "../components/Card";
import { EmptyState } from "../components/EmptyState";
import { CloudIcon } from "../components/icons";
import { useAuth } from "./session";

export function RequireAuth() {
  const { state, reload } = useAuth();
  const location = useLocation();
  const signedIn = state.status === "signed-in";
  const checkedPath = useRef(location.pathname);

  // Re-check the session on every navigation: a revoked or deactivated user is sent to sign in at
  // their next click, and changed roles show up without a reload.
  useEffect(() => {
    if (!signedIn || checkedPath.current === location.pathname) return;
    checkedPath.current = location.pathname;
    void reload();
  }, [location.pathname, signedIn, reload]);

  switch (state.status) {
    case "signed-in":
      return <Outlet />;
    case "signed-out": {
      // After "Sign out" the next user starts fresh; otherwise come back here after signing in.
      const here = `${location.pathname}${location.search}${location.hash}`;
      const target = state.reason === "signed-out" || here === "/" ? "/login" : `/login?next=${encodeURIComponent(here)}`;
      return <Navigate to={target} replace />;
    }
    case "unreachable":
      return (
        <EmptyState
          icon={CloudIcon}
          title="Cannot check your sign-in"
          actions={
            <button
              type="button"
              className={buttonClass.primary}
              onClick={() => {
                void reload();
              }}
            >
              Try again
            </button>
          }
        >
          <p>{state.error.message}</p>
        </EmptyState>
      );
    case "loading":
      return (
        <div className="space-y-4" aria-busy="true" aria-label="Loading">
          <Skeleton className="h-9 w-48" />
          <Skeleton className="h-4 w-96 max-w-full" />
          <Skeleton className="h-40 w-full" />
        </div>
      );
  }
}
