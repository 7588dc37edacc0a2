/** Polls health, readiness and version together; pauses while the tab is hidden. */
import { useCallback, useEffect, useRef, useState } from "react";

import { getHealth, getReadiness, getVersion, type Health, type Readiness, type VersionInfo } from "../api/ops";
import { toApiError, type ApiError } from "../api/problem";

/** The outcome of one call: its value, or the error to show in its place. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; error: ApiError };

export interface ServerStatus {
  health: Outcome<Health>;
  ready: Outcome<Readiness>;
  version: Outcome<VersionInfo>;
  checkedAt: Date;
}

function settle<T>(result: PromiseSettledResult<T>): Outcome<T> {
  return result.status === "fulfilled" ? { ok: true, value: result.value } : { ok: false, error: toApiError(result.reason) };
}

/** True when every call failed because nothing answered: show one "server unreachable" state. */
export function isUnreachable(status: ServerStatus): boolean {
  return [status.health, status.ready, status.version].every((outcome) => !outcome.ok && outcome.error.kind === "unreachable");
}

export interface ServerStatusState {
  /** Null until the first round of calls has finished. */
  status: ServerStatus | null;
  /** True while a round of calls is in flight. */
  checking: boolean;
  /** Check now, and restart the interval from here. */
  refresh: () => void;
}

export function useServerStatus(intervalMs = 5000): ServerStatusState {
  const [status, setStatus] = useState<ServerStatus | null>(null);
  const [checking, setChecking] = useState(true);
  const [round, setRound] = useState(0);
  const inFlight = useRef(false);

  useEffect(() => {
    const controller = new AbortController();
    let timer: number | undefined;

    const check = async (): Promise<void> => {
      if (inFlight.current) return;
      inFlight.current = true;
      window.clearTimeout(timer);
      const { signal } = controller;
      const results = await Promise.allSettled([getHealth(signal), getReadiness(signal), getVersion(signal)]);
      inFlight.current = false;
      if (signal.aborted) return;
      const [health, ready, version] = results;
      setStatus({ health: settle(health), ready: settle(ready), version: settle(version), checkedAt: new Date() });
      setChecking(false);
      schedule();
    };

    const schedule = (): void => {
      window.clearTimeout(timer);
      if (document.visibilityState === "visible") {
        timer = window.setTimeout(() => {
          setChecking(true);
          void check();
        }, intervalMs);
      }
    };

    const onVisibilityChange = (): void => {
      if (document.visibilityState === "visible") {
        setChecking(true);
        void check();
      } else {
        window.clearTimeout(timer);
      }
    };

    void check();
    document.addEventListener("visibilitychange", onVisibilityChange);
    return () => {
      controller.abort();
      inFlight.current = false;
      window.clearTimeout(timer);
      document.removeEventListener("visibilitychange", onVisibilityChange);
    };
  }, [intervalMs, round]);

  const refresh = useCallback(() => {
    setChecking(true);
    setRound((n) => n + 1);
  }, []);

  return { status, checking, refresh };
}
