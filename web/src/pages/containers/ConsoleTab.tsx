/** The console tab: an xterm.js terminal showing the log tail then live lines, and an input line sent to stdin. */
import { FitAddon } from "@xterm/addon-fit";
import { Terminal } from "@xterm/xterm";
import "@xterm/xterm/css/xterm.css";
import { useEffect, useRef, useState, type SubmitEvent } from "react";

import { buttonClass } from "../../components/Button";
import { Alert, inputClass } from "../../components/Form";
import type { ConsoleListener, ConsoleStatus } from "./useConsole";

/**
 * xterm.js themes and sizes its rows through <style> elements it writes, which the page's Content-Security-Policy
 * (`style-src 'self'`, nothing inline) blocks. Mirror their text into constructable stylesheets, which CSSOM may
 * apply, and keep them in step as xterm rewrites them; returns the function that stops and removes them.
 */
function mirrorStyles(root: HTMLElement): () => void {
  const sheets = new Map<HTMLStyleElement, CSSStyleSheet>();
  const sync = (): void => {
    const owned = new Set(sheets.values());
    for (const element of root.querySelectorAll("style")) {
      let sheet = sheets.get(element);
      if (sheet === undefined) {
        sheet = new CSSStyleSheet();
        sheets.set(element, sheet);
      }
      sheet.replaceSync(element.textContent);
    }
    for (const element of [...sheets.keys()]) if (!element.isConnected) sheets.delete(element);
    document.adoptedStyleSheets = [...document.adoptedStyleSheets.filter((sheet) => !owned.has(sheet)), ...sheets.values()];
  };
  const observer = new MutationObserver(sync);
  observer.observe(root, { subtree: true, childList: true, characterData: true });
  sync();
  return () => {
    observer.disconnect();
    const owned = new Set(sheets.values());
    document.adoptedStyleSheets = document.adoptedStyleSheets.filter((sheet) => !owned.has(sheet));
  };
}

export function ConsoleBanner({ status, onRetry }: { status: ConsoleStatus; onRetry: () => void }) {
  if (status.kind === "reconnecting") {
    return (
      <Alert tone="info" testId="console-banner">
        Reconnecting in {status.seconds}s… <span className="text-xs opacity-80">({status.reason})</span>
      </Alert>
    );
  }
  if (status.kind === "failed") {
    return (
      <Alert tone="danger" testId="console-banner">
        Can&apos;t reach the console: {status.reason}.{" "}
        <button type="button" className="font-medium underline" onClick={onRetry}>
          Retry
        </button>
      </Alert>
    );
  }
  return null;
}

export function ConsoleTab({
  visible,
  subscribe,
  send,
  status,
}: {
  visible: boolean;
  subscribe: (listener: ConsoleListener) => () => void;
  send: (line: string) => boolean;
  status: ConsoleStatus;
}) {
  const host = useRef<HTMLDivElement>(null);
  const fit = useRef<FitAddon | null>(null);
  const [line, setLine] = useState("");
  const [history, setHistory] = useState<string[]>([]);
  const [cursor, setCursor] = useState<number | null>(null);

  useEffect(() => {
    const element = host.current;
    if (element === null) return;
    const terminal = new Terminal({
      convertEol: true,
      disableStdin: true,
      fontFamily: "ui-monospace, SFMono-Regular, Menlo, monospace",
      fontSize: 13,
      scrollback: 5000,
      theme: { background: "#020617", foreground: "#e2e8f0" },
    });
    const addon = new FitAddon();
    terminal.loadAddon(addon);
    const unmirror = mirrorStyles(element);
    terminal.open(element);
    fit.current = addon;
    const observer = new ResizeObserver(() => {
      if (element.offsetParent !== null) addon.fit();
    });
    observer.observe(element);
    const unsubscribe = subscribe({
      reset: () => {
        terminal.reset();
      },
      lines: (lines) => {
        // One write per frame (a frame carries up to thousands of lines): xterm parses and renders it in one go.
        if (lines.length > 0) terminal.write(`${lines.join("\r\n")}\r\n`);
      },
      notice: (message) => {
        terminal.writeln(`\x1b[33m[nubes] ${message}\x1b[0m`);
      },
    });
    return () => {
      unsubscribe();
      observer.disconnect();
      fit.current = null;
      terminal.dispose();
      unmirror();
    };
  }, [subscribe]);

  useEffect(() => {
    if (visible) fit.current?.fit();
  }, [visible]);

  const submit = (event: SubmitEvent<HTMLFormElement>): void => {
    event.preventDefault();
    if (line === "" || !send(line)) return;
    setHistory((previous) => [...previous.slice(-49), line]);
    setCursor(null);
    setLine("");
  };

  return (
    <div className={visible ? "space-y-3" : "hidden"}>
      <div ref={host} data-testid="console-terminal" className="h-[28rem] overflow-hidden rounded-lg bg-slate-950 p-2" />
      <form onSubmit={submit} className="flex gap-2" aria-label="Console input">
        <input
          className={`${inputClass} font-mono`}
          aria-label="Command"
          placeholder={status.kind === "open" ? "Type a line for the container's stdin, Enter to send" : "Waiting for the console…"}
          value={line}
          maxLength={4096}
          onChange={(e) => {
            setLine(e.target.value);
          }}
          onKeyDown={(e) => {
            if (e.key !== "ArrowUp" && e.key !== "ArrowDown") return;
            e.preventDefault();
            if (history.length === 0) return;
            const next = e.key === "ArrowUp" ? Math.max(0, (cursor ?? history.length) - 1) : Math.min(history.length, (cursor ?? history.length) + 1);
            setCursor(next);
            setLine(history[next] ?? "");
          }}
        />
        <button type="submit" className={buttonClass.primary} disabled={status.kind !== "open" || line === ""}>
          Send
        </button>
      </form>
    </div>
  );
}
