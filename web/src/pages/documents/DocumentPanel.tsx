/**
 * The slide-over of the open document (480 px on the right, the list stays usable behind it): where reading its
 * text stands, what Nubes suggests for it, its metadata edited in place, the text and the history, and Download,
 * Re-analyse and Remove.
 */
import { useQueryClient } from "@tanstack/react-query";
import { lazy, Suspense, useEffect, useRef, useState } from "react";

import { reanalyseDocument, removeDocument, type Document } from "../../api/documents";
import { isReading, useDocument } from "../../api/documentsQueries";
import { contentUrl } from "../../api/files";
import { useInvalidate } from "../../api/queryClient";
import { documentsKeys } from "../../api/queryKeys";
import { buttonClass } from "../../components/Button";
import { Skeleton } from "../../components/Card";
import { ConfirmDialog } from "../../components/Dialog";
import { Alert } from "../../components/Form";
import { CloseIcon, DownloadIcon, RefreshIcon, SearchIcon } from "../../components/icons";
import { describeTimestamp } from "../../lib/format";
import { useAction, useConfirm } from "../../lib/useAction";
import { formatBytes } from "../files/fileKinds";
import { ExtractionStatus } from "./DocumentBits";
import { DocumentCustomFields } from "./DocumentCustomFields";
import { DocumentFields } from "./DocumentFields";
import { DocumentSuggestions } from "./DocumentSuggestions";
import { HistoryTab, TextTab } from "./DocumentTabs";
import { DocumentPreview } from "./viewer/DocumentPreview";
import { viewKind } from "./viewer/viewKinds";

// The viewer brings pdf.js: its chunk loads only when a document is viewed.
const DocumentViewer = lazy(() => import("./viewer/DocumentViewer"));

const TABS = ["details", "text", "history"] as const;
type Tab = (typeof TABS)[number];
const TAB_LABELS: Record<Tab, string> = { details: "Details", text: "Text", history: "History" };

function tabClass(active: boolean): string {
  const base = "rounded-md px-3 py-1.5 text-sm font-medium transition-colors";
  return active
    ? `${base} bg-white text-slate-900 shadow-sm ring-1 ring-slate-200 dark:bg-slate-800 dark:text-white dark:ring-slate-700`
    : `${base} text-slate-600 hover:text-slate-900 dark:text-slate-400 dark:hover:text-white`;
}

export function DocumentPanel({
  id,
  initial,
  canEdit,
  canManage,
  onClose,
}: {
  id: string;
  /** The list's copy, shown until the document itself has loaded. */
  initial?: Document;
  canEdit: boolean;
  canManage: boolean;
  onClose: () => void;
}) {
  const { data: document, error } = useDocument(id, initial);
  const [tab, setTab] = useState<Tab>("details");
  // The details form keeps its own draft; a decided suggestion changes the document under it, so it starts afresh.
  const [decisions, setDecisions] = useState(0);
  const [viewing, setViewing] = useState(false);
  const panel = useRef<HTMLElement>(null);

  // Escape closes the panel wherever the focus is, unless a dialog is open (Escape is that dialog's). Opening a
  // document takes the focus to its panel, so the keyboard and a screen reader land where the document is.
  const close = useRef(onClose);
  useEffect(() => {
    close.current = onClose;
  });
  useEffect(() => {
    panel.current?.focus();
    const onKeyDown = (event: KeyboardEvent): void => {
      if (event.key === "Escape" && !event.defaultPrevented && window.document.querySelector("dialog[open]") === null) close.current();
    };
    window.document.addEventListener("keydown", onKeyDown);
    return () => {
      window.document.removeEventListener("keydown", onKeyDown);
    };
  }, []);
  const invalidate = useInvalidate();
  const client = useQueryClient();
  /** The server's answer is the document now: into the cache, and what shows it elsewhere loads again. */
  const changed = (saved: Document): void => {
    client.setQueryData(documentsKeys.document(id), saved);
    void invalidate(documentsKeys.lists, documentsKeys.history(id), documentsKeys.vocabularies);
  };
  const reanalyse = useAction(reanalyseDocument, changed);
  const remove = useConfirm((target: Document) => removeDocument(target.id), () => {
    onClose();
    void invalidate(documentsKeys.lists, documentsKeys.vocabularies);
  });

  const reading = document !== undefined && isReading(document.extraction);
  const reanalyseButton = (
    <button
      type="button"
      className={buttonClass.small}
      disabled={!canEdit || reanalyse.busy || reading}
      onClick={() => void reanalyse.run(id)}
      title="Read its text again"
    >
      <RefreshIcon className="size-3.5" /> {reanalyse.busy ? "Queuing…" : "Re-analyse"}
    </button>
  );

  return (
    <aside
      ref={panel}
      tabIndex={-1}
      aria-label="Document"
      data-testid="document-panel"
      className="fixed top-16 focus:outline-none right-0 bottom-0 z-30 flex w-full max-w-[480px] flex-col border-l border-slate-200 bg-white shadow-2xl dark:border-slate-800 dark:bg-slate-900"
    >
      <div className="flex items-start justify-between gap-3 border-b border-slate-200 px-5 py-4 dark:border-slate-800">
        <div className="min-w-0">
          <h2 className="text-base font-semibold break-words text-slate-900 dark:text-white" data-testid="document-panel-title">
            {document?.title ?? "Document"}
          </h2>
          {document !== undefined && (
            <p className="mt-0.5 truncate text-xs text-slate-500 dark:text-slate-400" title={document.file_name}>
              {document.file_name} · {formatBytes(document.size)} · added {describeTimestamp(document.added_at).text}
              {!document.mine && " · shared with you"}
            </p>
          )}
        </div>
        <button type="button" onClick={onClose} className="rounded-lg p-1 text-slate-500 hover:bg-slate-100 dark:hover:bg-slate-800" aria-label="Close document">
          <CloseIcon className="size-5" />
        </button>
      </div>

      <div className="flex-1 overflow-y-auto px-5 py-4">
        {error !== null && document === undefined && <Alert tone="danger">{error.message}</Alert>}
        {document === undefined && error === null && <Skeleton className="h-64 w-full" />}
        {document !== undefined && (
          <div className="space-y-4">
            {viewKind(document) !== null ? (
              <button
                type="button"
                className="block w-full cursor-zoom-in rounded-lg focus-visible:outline-2 focus-visible:outline-sky-500"
                aria-label={`View ${document.title}`}
                onClick={() => { setViewing(true); }}
              >
                <DocumentPreview document={document} size="panel" />
              </button>
            ) : (
              <DocumentPreview document={document} size="panel" />
            )}
            <div className="flex flex-wrap gap-2">
              {viewKind(document) !== null && (
                <button type="button" className={buttonClass.small} data-testid="document-view" onClick={() => { setViewing(true); }}>
                  <SearchIcon className="size-3.5" /> View
                </button>
              )}
              <a className={buttonClass.small} href={contentUrl(document.file_id)}>
                <DownloadIcon className="size-3.5" /> Download
              </a>
              {document.extraction?.state !== "failed" && reanalyseButton}
              <button type="button" className={buttonClass.smallDanger} disabled={!canEdit} onClick={() => { remove.ask(document); }}>
                Remove document
              </button>
            </div>
            {reanalyse.error !== null && <Alert tone="danger">{reanalyse.error.message}</Alert>}
            <ExtractionStatus extraction={document.extraction} action={document.extraction?.state === "failed" ? reanalyseButton : undefined} />

            <div role="tablist" aria-label="Document views" className="inline-flex gap-1 rounded-lg bg-slate-100 p-1 dark:bg-slate-950">
              {TABS.map((name) => (
                <button
                  key={name}
                  id={`document-tab-${name}`}
                  type="button"
                  role="tab"
                  aria-selected={tab === name}
                  aria-controls={`document-tabpanel-${name}`}
                  className={tabClass(tab === name)}
                  onClick={() => { setTab(name); }}
                >
                  {TAB_LABELS[name]}
                </button>
              ))}
            </div>
            <div role="tabpanel" id={`document-tabpanel-${tab}`} aria-labelledby={`document-tab-${tab}`}>
              {tab === "details" && (
                <div className="space-y-4">
                  <DocumentSuggestions
                    document={document}
                    canEdit={canEdit}
                    onDecided={(saved) => {
                      changed(saved);
                      setDecisions((count) => count + 1);
                    }}
                  />
                  <DocumentFields
                    key={`${document.id}-${decisions}`}
                    document={document}
                    canEdit={canEdit}
                    canManage={canManage}
                    onSaved={changed}
                  />
                  <DocumentCustomFields
                    key={`${document.id}-fields-${decisions}`}
                    document={document}
                    canEdit={canEdit}
                    canManage={canManage}
                    onSaved={changed}
                  />
                </div>
              )}
              {tab === "text" && <TextTab document={document} />}
              {tab === "history" && <HistoryTab document={document} />}
            </div>
          </div>
        )}
      </div>

      {viewing && document !== undefined && (
        <Suspense fallback={null}>
          <DocumentViewer document={document} onClose={() => { setViewing(false); }} />
        </Suspense>
      )}

      <ConfirmDialog title={`Remove ${remove.target?.title ?? "this document"} from Documents?`} confirmLabel="Remove document" {...remove.dialog}>
        <p>
          Its type, correspondent, tags, categories, notes, history and the text read from it are forgotten. The file itself stays in your files
          {remove.target !== null && <> as <span className="font-medium">{remove.target.file_name}</span></>}; delete it there if you want it gone.
        </p>
      </ConfirmDialog>
    </aside>
  );
}
