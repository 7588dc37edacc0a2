/** Loads the signed-in user once, keeps it fresh, and hears when the session ends. */
import { useCallback, useEffect, useMemo, useRef, useState, type ReactNode } from "react";

import { hasSessionCookie, onSessionEnded } from "../api/client";
import { getMe, signOut as signOutOnServer } from "../api/identity";
import { toApiError } from "../api/problem";
import { queryClient } from "../api/queryClient";
import { AuthContext, type Auth, type AuthState } from "./session";

export function AuthProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<AuthState>({ status: "loading" });
  // Whether a user was signed in decides if losing the session reads as "expired" or "never signed in".
  const signedIn = useRef(false);

  const lose = useCallback((): void => {
    const expired = signedIn.current;
    signedIn.current = false;
    // Nothing one user loaded stays cached for whoever signs in next. (Without a user there is nothing of theirs
    // to drop, and clearing would cancel what the sign-in page is loading.)
    if (expired) queryClient.clear();
    // The refused refresh and the call that triggered it both report the loss: the first one says why.
    setState((previous) => (previous.status === "signed-out" ? previous : { status: "signed-out", reason: expired ? "expired" : "anonymous" }));
  }, []);

  const reload = useCallback(
    (): Promise<void> =>
      // Without the CSRF cookie there is no session to ask about (and no 401 to log in the console).
      (hasSessionCookie() ? getMe() : Promise.resolve(null)).then(
        (me) => {
          if (me === null) {
            lose();
            return;
          }
          signedIn.current = true;
          setState({ status: "signed-in", me });
        },
        (error: unknown) => {
          const apiError = toApiError(error);
          if (apiError.status === 401) {
            lose();
          } else if (!signedIn.current) {
            // A hiccup while signed in keeps the user; only a first load that fails shows the error.
            setState({ status: "unreachable", error: apiError });
          }
        },
      ),
    [lose],
  );

  const signOut = useCallback(async (): Promise<void> => {
    try {
      await signOutOnServer();
    } finally {
      signedIn.current = false;
      queryClient.clear();
      setState({ status: "signed-out", reason: "signed-out" });
    }
  }, []);

  useEffect(() => {
    void reload();
    return onSessionEnded(lose);
  }, [reload, lose]);

  const auth = useMemo<Auth>(() => ({ state, reload, signOut }), [state, reload, signOut]);
  return <AuthContext value={auth}>{children}</AuthContext>;
}
