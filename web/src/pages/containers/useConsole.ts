/**
 * One container's console socket (`WS /api/ws/containers/{id}`), opened with a single-use ticket: output lines,
 * state changes, stats about once a second and notices in; input lines out. Reconnects with exponential backoff
 * and says so; gives up (until the user retries) when access is refused or the server stays unreachable.
 */
import { useCallback, useEffect, useRef, useState } from "react";

import { consoleTicket } from "../../api/containers";
import { toApiError } from "../../api/problem";

/** One stats frame as the server sends it. */
export interface StatsSample {
  /** Milliseconds since the epoch, when the browser received it. */
  at: number;
  cpu_percent: number;
  memory_bytes: number;
  memory_limit_bytes: number;
  network_rx_bytes: number;
  network_tx_bytes: number;
  disk_bytes: number;
}

export type ConsoleStatus =
  | { kind: "connecting" }
  | { kind: "open" }
  | { kind: "reconnecting"; seconds: number; reason: string }
  | { kind: "failed"; reason: string };

export interface ConsoleListener {
  /** The terminal should start over (a new connection replays the log tail). */
  reset: () => void;
  lines: (lines: string[]) => void;
  notice: (message: string) => void;
}

const MAX_BACKOFF_SECONDS = 30;
const MAX_ATTEMPTS = 6;
const STATS_WINDOW_MS = 5 * 60 * 1000;
/** Access refused (4401 session ended, 4403 no permission or no such container): retrying cannot help. */
const FINAL_CODES = new Set([4401, 4403, 1008]);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function socketUrl(path: string): string {
  const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${window.location.host}${path}`;
}

export function useConsole(containerId: string) {
  const [status, setStatus] = useState<ConsoleStatus>({ kind: "connecting" });
  const [state, setState] = useState<string | null>(null);
  const [stats, setStats] = useState<StatsSample[]>([]);
  const [round, setRound] = useState(0);
  const listener = useRef<ConsoleListener | null>(null);
  const socket = useRef<WebSocket | null>(null);

  useEffect(() => {
    let stopped = false;
    let attempts = 0;
    let timer: number | undefined;
    let countdown: number | undefined;

    const scheduleRetry = (reason: string): void => {
      attempts += 1;
      if (attempts >= MAX_ATTEMPTS) {
        setStatus({ kind: "failed", reason });
        return;
      }
      let seconds = Math.min(MAX_BACKOFF_SECONDS, 2 ** (attempts - 1));
      setStatus({ kind: "reconnecting", seconds, reason });
      countdown = window.setInterval(() => {
        seconds -= 1;
        if (seconds > 0) setStatus({ kind: "reconnecting", seconds, reason });
      }, 1000);
      timer = window.setTimeout(() => {
        window.clearInterval(countdown);
        void connect();
      }, seconds * 1000);
    };

    const onFrame = (text: string): void => {
      let frame: unknown;
      try {
        frame = JSON.parse(text);
      } catch {
        return;
      }
      if (!isRecord(frame)) return;
      if (frame.type === "output" && Array.isArray(frame.lines)) {
        listener.current?.lines(frame.lines.filter((line): line is string => typeof line === "string"));
      } else if (frame.type === "state" && typeof frame.state === "string") {
        setState(frame.state);
      } else if (frame.type === "notice" && typeof frame.message === "string") {
        listener.current?.notice(frame.message);
      } else if (frame.type === "stats") {
        const number = (key: string): number => (typeof frame[key] === "number" ? frame[key] : 0);
        const sample: StatsSample = {
          at: Date.now(),
          cpu_percent: number("cpu_percent"),
          memory_bytes: number("memory_bytes"),
          memory_limit_bytes: number("memory_limit_bytes"),
          network_rx_bytes: number("network_rx_bytes"),
          network_tx_bytes: number("network_tx_bytes"),
          disk_bytes: number("disk_bytes"),
        };
        setStats((previous) => [...previous.filter((item) => item.at > sample.at - STATS_WINDOW_MS), sample]);
      }
    };

    const connect = async (): Promise<void> => {
      setStatus({ kind: "connecting" });
      let url: string;
      try {
        url = (await consoleTicket(containerId)).url;
      } catch (caught) {
        const error = toApiError(caught);
        if (stopped) return;
        // 401/403/404: the user cannot open this console; retrying will not change that.
        if (error.status !== null && [401, 403, 404].includes(error.status)) setStatus({ kind: "failed", reason: error.message });
        else scheduleRetry(error.message);
        return;
      }
      if (stopped) return;
      const ws = new WebSocket(socketUrl(url));
      socket.current = ws;
      let opened = false;
      ws.onopen = () => {
        opened = true;
        attempts = 0;
        listener.current?.reset();
        setStatus({ kind: "open" });
      };
      ws.onmessage = (event: MessageEvent<unknown>) => {
        if (typeof event.data === "string") onFrame(event.data);
      };
      ws.onclose = (event: CloseEvent) => {
        socket.current = null;
        if (stopped) return;
        const reason = event.reason || (opened ? "the connection closed" : "the server did not accept the connection");
        if (FINAL_CODES.has(event.code)) setStatus({ kind: "failed", reason });
        else scheduleRetry(reason);
      };
    };

    void connect();
    return () => {
      stopped = true;
      window.clearTimeout(timer);
      window.clearInterval(countdown);
      socket.current?.close(1000, "page left");
      socket.current = null;
    };
  }, [containerId, round]);

  /** Send one line to the container's stdin; false when the socket is not open. */
  const send = useCallback((line: string): boolean => {
    const ws = socket.current;
    if (ws?.readyState !== WebSocket.OPEN) return false;
    ws.send(JSON.stringify({ type: "input", line }));
    return true;
  }, []);

  const retry = useCallback(() => {
    setRound((n) => n + 1);
  }, []);

  /** Where output goes (the terminal); returns the unsubscribe function. */
  const subscribe = useCallback((next: ConsoleListener): (() => void) => {
    listener.current = next;
    return () => {
      if (listener.current === next) listener.current = null;
    };
  }, []);

  return { status, state, stats, send, retry, subscribe };
}
