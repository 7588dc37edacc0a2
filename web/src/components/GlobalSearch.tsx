/**
 * The top bar's search box: files, documents, containers and people at once, in one list grouped by kind (a
 * combobox). Ctrl+K (⌘K) anywhere, or "/" when not typing elsewhere, puts the cursor in it; ArrowUp and ArrowDown
 * move through the results, Enter opens one, Esc closes the list (a second Esc clears the box).
 *
 * It asks the server once typing pauses and cancels the question before, so an answer to old words never replaces
 * the answer to new ones. A kind the server left out (you may not see it) is simply not listed.
 */
import { useCallback, useEffect, useId, useRef, useState, type KeyboardEvent as ReactKeyboardEvent, type ReactNode } from "react";
import { useNavigate } from "react-router";

import { MAX_QUERY, searchEverything, type DocumentFound, type Everything } from "../api/everything";
import { useDebounced } from "../hooks/useDebounced";
import { Avatar } from "./Avatar";
import { ArrowRightIcon, ContainerIcon, DocumentIcon, FolderIcon, SearchIcon } from "./icons";

const DEBOUNCE_MS = 200;
const SHORTCUT = /Mac|iPhone|iPad/.test(navigator.userAgent) ? "⌘K" : "Ctrl K";
/** How many of each kind the list shows. */
const GROUP_LIMIT = 5;

type Kind = "file" | "folder" | "document" | "container" | "person" | "more";

interface Option {
  key: string;
  kind: Kind;
  label: string;
  detail?: ReactNode;
  /** Where Enter (or a click) goes. */
  href: string;
}

interface Group {
  key: string;
  title: string;
  options: Option[];
}

function bytes(size: number): string {
  if (size < 1024) return `${size} B`;
  const units = ["KB", "MB", "GB", "TB"];
  let value = size / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit] ?? "TB"}`;
}

function Snippet({ parts }: { parts: DocumentFound["snippet"] }) {
  if (parts.length === 0) return null;
  // Ellipses where the snippet is cut, unless it already marks that itself.
  const before = parts[0]?.text.startsWith("…") ? "" : "…";
  const after = parts.at(-1)?.text.endsWith("…") ? "" : "…";
  return (
    <span className="line-clamp-2" data-testid="global-search-snippet">
      {before}
      {parts.map((part, index) =>
        part.match ? (
          <mark key={index} className="rounded-sm bg-amber-200 px-0.5 text-slate-900 dark:bg-amber-400/40 dark:text-white">
            {part.text}
          </mark>
        ) : (
          <span key={index}>{part.text}</span>
        ),
      )}
      {after}
    </span>
  );
}

/** The answer as groups of options, in the order the list shows them (and the arrow keys walk them). */
function groupsOf(answer: Everything): Group[] {
  const q = encodeURIComponent(answer.q.trim());
  const groups: Group[] = [];
  if (answer.files !== null && answer.files.items.length > 0) {
    const options: Option[] = answer.files.items.map((item) => ({
      key: `file-${item.id}`,
      kind: item.kind,
      label: item.name,
      detail: item.snippet !== undefined && item.snippet.length > 0 ? <Snippet parts={item.snippet} /> : item.kind === "folder" ? "Folder" : bytes(item.size),
      href:
        item.kind === "folder"
          ? `/files?folder=${encodeURIComponent(item.id)}`
          : `/files?folder=${encodeURIComponent(item.parent_id ?? "")}&file=${encodeURIComponent(item.id)}`,
    }));
    if (answer.files.more) options.push({ key: "files-more", kind: "more", label: "See all matching files in Files", href: `/files?view=search&q=${q}` });
    groups.push({ key: "files", title: "Files", options });
  }
  if (answer.documents !== null && answer.documents.items.length > 0) {
    const { total } = answer.documents;
    const options: Option[] = answer.documents.items.map((item) => ({
      key: `document-${item.document_id}`,
      kind: "document",
      label: item.title,
      detail: <Snippet parts={item.snippet} />,
      href: `/documents?q=${q}&doc=${encodeURIComponent(item.document_id)}`,
    }));
    options.push({
      key: "documents-all",
      kind: "more",
      label: total === 1 ? "See the result in Documents" : `See all ${total} results in Documents`,
      href: `/documents?q=${q}`,
    });
    groups.push({ key: "documents", title: "Documents", options });
  }
  if (answer.containers !== null && answer.containers.items.length > 0) {
    const options: Option[] = answer.containers.items.map((item) => ({
      key: `container-${item.id}`,
      kind: "container",
      label: item.name,
      detail: item.state.replace("_", " "),
      href: `/containers/${encodeURIComponent(item.id)}`,
    }));
    if (answer.containers.more) options.push({ key: "containers-more", kind: "more", label: "See all containers", href: "/containers" });
    groups.push({ key: "containers", title: "Containers", options });
  }
  if (answer.people !== null && answer.people.items.length > 0) {
    // No profile pages yet: a person leads to what people shared with you.
    const options: Option[] = answer.people.items.map((item) => ({
      key: `person-${item.id}`,
      kind: "person",
      label: item.name,
      detail: `@${item.username}`,
      href: "/files/shared",
    }));
    groups.push({ key: "people", title: "People", options });
  }
  return groups;
}

function OptionIcon({ option }: { option: Option }) {
  const size = "size-5 shrink-0";
  switch (option.kind) {
    case "folder":
      return <FolderIcon className={`${size} text-sky-600`} />;
    case "file":
      return <DocumentIcon className={`${size} text-slate-400`} />;
    case "document":
      return <DocumentIcon className={`${size} text-indigo-500`} />;
    case "container":
      return <ContainerIcon className={`${size} text-emerald-600`} />;
    case "person":
      return <Avatar name={option.label} size="sm" />;
    case "more":
      return <ArrowRightIcon className={`${size} text-slate-400`} />;
  }
}

/** Whether a key press happens while someone types into a field (where "/" is a character, not a shortcut). */
function typingIn(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  return target.isContentEditable || target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement;
}

type Answer = { q: string; data: Everything } | { q: string; error: string };

export function GlobalSearch() {
  const navigate = useNavigate();
  const id = useId();
  const listId = `${id}-list`;
  const hintId = `${id}-hint`;
  const root = useRef<HTMLDivElement>(null);
  const input = useRef<HTMLInputElement>(null);
  const [text, setText] = useState("");
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(-1);
  const [answer, setAnswer] = useState<Answer | null>(null);
  const [attempt, setAttempt] = useState(0);
  const q = text.trim();
  const settled = useDebounced(q, DEBOUNCE_MS);

  useEffect(() => {
    if (settled === "") return;
    const controller = new AbortController();
    searchEverything(settled, GROUP_LIMIT, controller.signal).then(
      (data) => {
        if (controller.signal.aborted) return;
        setAnswer({ q: settled, data });
        setActive(-1);
      },
      (error: unknown) => {
        if (controller.signal.aborted) return;
        setAnswer({ q: settled, error: error instanceof Error ? error.message : String(error) });
        setActive(-1);
      },
    );
    return () => {
      controller.abort();
    };
  }, [settled, attempt]);

  // Ctrl+K / ⌘K from anywhere, "/" when not typing in a field: to the search box.
  useEffect(() => {
    const onKeyDown = (event: KeyboardEvent): void => {
      const commandK = (event.ctrlKey || event.metaKey) && !event.altKey && event.key.toLowerCase() === "k";
      const slash = event.key === "/" && !event.ctrlKey && !event.metaKey && !event.altKey && !typingIn(event.target);
      if (!commandK && !slash) return;
      event.preventDefault();
      input.current?.focus();
      input.current?.select();
      setOpen(true);
    };
    document.addEventListener("keydown", onKeyDown);
    return () => {
      document.removeEventListener("keydown", onKeyDown);
    };
  }, []);

  // A press outside closes the list.
  useEffect(() => {
    if (!open) return;
    const onPointerDown = (event: PointerEvent): void => {
      if (root.current?.contains(event.target as Node) === false) setOpen(false);
    };
    document.addEventListener("pointerdown", onPointerDown);
    return () => {
      document.removeEventListener("pointerdown", onPointerDown);
    };
  }, [open]);

  const current = answer !== null && q !== "" ? answer : null;
  const groups = current !== null && "data" in current ? groupsOf(current.data) : [];
  const options = groups.flatMap((group) => group.options);
  const optionId = (index: number): string => `${id}-option-${index}`;
  const searching = q !== "" && current?.q !== q;
  const activeOption = active >= 0 && active < options.length ? active : -1;

  useEffect(() => {
    if (activeOption >= 0) document.getElementById(`${id}-option-${activeOption}`)?.scrollIntoView({ block: "nearest" });
  }, [activeOption, id]);

  const choose = useCallback(
    (option: Option) => {
      // The answer stays: the same words typed again at once (within the pause) show it rather than nothing.
      setOpen(false);
      setText("");
      input.current?.blur();
      void navigate(option.href);
    },
    [navigate],
  );

  const onKeyDown = (event: ReactKeyboardEvent<HTMLInputElement>): void => {
    switch (event.key) {
      case "ArrowDown":
      case "ArrowUp": {
        event.preventDefault();
        setOpen(true);
        if (options.length === 0) return;
        const step = event.key === "ArrowDown" ? 1 : -1;
        setActive(activeOption < 0 ? (step > 0 ? 0 : options.length - 1) : (activeOption + step + options.length) % options.length);
        return;
      }
      case "Enter": {
        const chosen = options[activeOption >= 0 ? activeOption : 0];
        if (!open || chosen === undefined) return;
        event.preventDefault();
        choose(chosen);
        return;
      }
      case "Escape":
        event.preventDefault();
        if (open) setOpen(false);
        else if (text !== "") setText("");
        else input.current?.blur();
        return;
      case "Tab":
        setOpen(false);
        return;
      default:
        return;
    }
  };

  let status: ReactNode = null;
  if (q === "") {
    status = (
      <p className="px-4 py-3 text-sm text-slate-600 dark:text-slate-400">
        Find files and folders by name, documents by their text (words, "a phrase", prefix*, tag:, type:, year:), containers and people of your organization.
      </p>
    );
  } else if (current !== null && "error" in current && current.q === q) {
    status = (
      <div className="flex items-center justify-between gap-3 px-4 py-3 text-sm text-rose-700 dark:text-rose-300" role="alert" data-testid="global-search-error">
        <span>Search failed: {current.error}</span>
        <button
          type="button"
          className="shrink-0 rounded-lg px-2 py-1 font-medium text-sky-700 hover:bg-slate-100 dark:text-sky-300 dark:hover:bg-slate-800"
          onClick={() => {
            setAttempt((value) => value + 1);
          }}
        >
          Try again
        </button>
      </div>
    );
  } else if (options.length === 0 && !searching) {
    status = (
      <p className="px-4 py-3 text-sm text-slate-600 dark:text-slate-400" data-testid="global-search-empty">
        Nothing found for “{q}”. Try fewer or shorter words (names match from the start of a word); a document added a moment ago shows up shortly.
      </p>
    );
  } else if (options.length === 0) {
    status = <p className="px-4 py-3 text-sm text-slate-500 dark:text-slate-400">Searching…</p>;
  }

  // Where each group's options start in the one list the arrow keys walk.
  const starts = groups.map((_, at) => groups.slice(0, at).reduce((sum, group) => sum + group.options.length, 0));
  return (
    <div ref={root} className="relative mx-auto w-full max-w-xl min-w-0 flex-1" data-testid="global-search">
      <label htmlFor={`${id}-input`} className="sr-only">
        Search everything: files, documents, containers and people
      </label>
      <SearchIcon className="pointer-events-none absolute top-1/2 left-3 size-4 -translate-y-1/2 text-slate-400" />
      <input
        ref={input}
        id={`${id}-input`}
        type="text"
        role="combobox"
        aria-expanded={open}
        aria-controls={listId}
        aria-autocomplete="list"
        aria-activedescendant={open && activeOption >= 0 ? optionId(activeOption) : undefined}
        aria-describedby={hintId}
        autoComplete="off"
        spellCheck={false}
        maxLength={MAX_QUERY}
        placeholder="Search…"
        data-testid="global-search-input"
        className="h-10 w-full rounded-lg border border-slate-200 bg-slate-50 pr-16 pl-9 text-sm placeholder:text-slate-400 focus:border-sky-500 focus:bg-white focus:ring-1 focus:ring-sky-500 focus:outline-none dark:border-slate-700 dark:bg-slate-800 dark:focus:bg-slate-900"
        value={text}
        onChange={(event) => {
          setText(event.target.value);
          setOpen(true);
          setActive(-1);
        }}
        onFocus={() => {
          setOpen(true);
        }}
        onKeyDown={onKeyDown}
      />
      <kbd id={hintId} className="pointer-events-none absolute top-1/2 right-2 hidden -translate-y-1/2 rounded border border-slate-200 bg-white px-1.5 py-0.5 font-sans text-[11px] text-slate-500 sm:block dark:border-slate-700 dark:bg-slate-900 dark:text-slate-400">
        <span className="sr-only">Shortcut: </span>
        {SHORTCUT}
      </kbd>
      <div
        hidden={!open}
        className="fixed inset-x-2 top-[4.25rem] z-50 max-h-[75vh] overflow-y-auto rounded-xl border border-slate-200 bg-white shadow-lg sm:absolute sm:-inset-x-4 sm:top-full sm:mt-2 dark:border-slate-800 dark:bg-slate-900"
        data-testid="global-search-panel"
        aria-busy={searching}
      >
        {status}
        <ul id={listId} role="listbox" aria-label="Search results" className={`py-1 ${searching && options.length > 0 ? "opacity-60" : ""}`}>
          {groups.map((group, at) => (
            <li key={group.key} role="presentation">
              <div id={`${id}-${group.key}`} className="px-4 pt-3 pb-1 text-xs font-semibold tracking-wide text-slate-500 uppercase dark:text-slate-400" role="presentation">
                {group.title}
              </div>
              <ul role="group" aria-labelledby={`${id}-${group.key}`}>
                {group.options.map((option, offset) => {
                  const mine = (starts[at] ?? 0) + offset;
                  const selected = mine === activeOption;
                  return (
                    <li
                      key={option.key}
                      id={optionId(mine)}
                      role="option"
                      aria-selected={selected}
                      data-testid="global-search-option"
                      data-kind={option.kind}
                      data-label={option.label}
                      className={`mx-2 flex cursor-pointer items-start gap-3 rounded-lg px-2 py-2 text-sm ${selected ? "bg-sky-50 text-sky-900 dark:bg-sky-950/60 dark:text-sky-100" : "text-slate-700 dark:text-slate-200"}`}
                      onPointerMove={() => {
                        if (!selected) setActive(mine);
                      }}
                      onPointerDown={(event) => {
                        event.preventDefault(); // keep the focus in the box
                      }}
                      onClick={() => {
                        choose(option);
                      }}
                    >
                      <OptionIcon option={option} />
                      <span className="min-w-0 flex-1">
                        <span className={`block truncate ${option.kind === "more" ? "text-sky-700 dark:text-sky-300" : "font-medium text-slate-900 dark:text-white"}`}>{option.label}</span>
                        {option.detail !== undefined && <span className="block text-xs text-slate-500 dark:text-slate-400">{option.detail}</span>}
                      </span>
                    </li>
                  );
                })}
              </ul>
            </li>
          ))}
        </ul>
        {options.length > 0 && (
          <p className="hidden border-t border-slate-200 px-4 py-2 text-xs text-slate-500 sm:block dark:border-slate-800 dark:text-slate-400">
            ↑ ↓ to move · Enter to open · Esc to close
          </p>
        )}
      </div>
    </div>
  );
}
