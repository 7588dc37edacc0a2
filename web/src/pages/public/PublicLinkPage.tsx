/**
 * /s/:token — what a public link opens, for anyone, without an account and outside the app shell: a file to
 * download, a folder to browse and download (or zip), a password form first when the link has one, and an
 * upload form for edit links and drop boxes.
 */
import { useRef, useState, type ReactNode, type SubmitEvent } from "react";
import { useParams } from "react-router";

import { usePublicLink } from "../../api/filesQueries";
import { useInvalidate } from "../../api/queryClient";
import { filesKeys } from "../../api/queryKeys";
import { publicContentUrl, unlockPublicLink, uploadToPublicLink, type PublicLinkInfo } from "../../api/sharing";
import { buttonClass } from "../../components/Button";
import { Skeleton } from "../../components/Card";
import { Alert, Field, inputClass } from "../../components/Form";
import { DocumentIcon, DownloadIcon, FolderIcon } from "../../components/icons";
import { LogoMark } from "../../components/Logo";
import { useDocumentTitle } from "../../hooks/useDocumentTitle";
import { useAction, useTask } from "../../lib/useAction";

const PASSWORD_NEEDED = "urn:nubes:problem:link-password-required";

function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ["KB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = -1;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

function Frame({ children }: { children: ReactNode }) {
  return (
    <div className="flex min-h-dvh flex-col bg-linear-to-b from-sky-50 via-slate-50 to-slate-100 text-slate-900 dark:from-slate-900 dark:via-slate-950 dark:to-slate-950 dark:text-slate-100">
      <header className="flex items-center gap-2.5 px-6 py-4">
        <LogoMark />
        <span className="text-lg font-semibold tracking-tight">Nubes</span>
      </header>
      <main className="flex flex-1 items-start justify-center px-4 py-8">
        <div className="w-full max-w-2xl rounded-2xl border border-slate-200 bg-white p-6 shadow-xl shadow-slate-900/5 sm:p-8 dark:border-slate-800 dark:bg-slate-900">{children}</div>
      </main>
    </div>
  );
}

function PasswordForm({ token, onUnlocked }: { token: string; onUnlocked: () => void }) {
  const [password, setPassword] = useState("");
  const { run, busy, error } = useAction(unlockPublicLink, onUnlocked);
  const submit = async (event: SubmitEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    await run(token, password);
  };
  return (
    <form
      className="space-y-4"
      onSubmit={(event) => {
        void submit(event);
      }}
    >
      <h1 className="text-xl font-semibold">This link is protected</h1>
      <p className="text-sm text-slate-600 dark:text-slate-400">Enter the password you were given with the link.</p>
      {error !== null && <Alert tone="danger">{error.message}</Alert>}
      <Field label="Password">
        {(control) => (
          <input
            {...control}
            type="password"
            className={inputClass}
            autoComplete="off"
            required
            autoFocus
            value={password}
            onChange={(event) => {
              setPassword(event.target.value);
            }}
          />
        )}
      </Field>
      <button type="submit" className={buttonClass.primary} disabled={busy}>
        {busy ? "Checking…" : "Open"}
      </button>
    </form>
  );
}

function UploadForm({ token, folderId, onUploaded }: { token: string; folderId: string | null; onUploaded: () => void }) {
  const input = useRef<HTMLInputElement>(null);
  const [sent, setSent] = useState<string[]>([]);
  const { run, busy, error } = useTask();
  const submit = async (event: SubmitEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    const files = Array.from(input.current?.files ?? []);
    if (files.length === 0) return;
    await run(async () => {
      for (const file of files) {
        const stored = await uploadToPublicLink(token, file, folderId);
        setSent((current) => [...current, stored.name]);
      }
      if (input.current) input.current.value = "";
      onUploaded();
    });
  };
  return (
    <form
      className="mt-6 space-y-3 border-t border-slate-100 pt-5 dark:border-slate-800"
      onSubmit={(event) => {
        void submit(event);
      }}
    >
      <h2 className="text-sm font-semibold">Upload files</h2>
      {error !== null && <Alert tone="danger">{error.message}</Alert>}
      <input ref={input} type="file" multiple aria-label="Files to upload" className="block w-full text-sm" data-testid="public-upload-input" />
      <button type="submit" className={buttonClass.primary} disabled={busy}>
        {busy ? "Uploading…" : "Upload"}
      </button>
      {sent.length > 0 && (
        <ul aria-label="Uploaded" className="text-sm text-emerald-700 dark:text-emerald-300">
          {sent.map((name, index) => (
            <li key={`${name}-${index}`}>Uploaded {name}</li>
          ))}
        </ul>
      )}
    </form>
  );
}

function Opened({ token, info, onOpenFolder, reload }: { token: string; info: PublicLinkInfo; onOpenFolder: (id: string | null) => void; reload: () => void }) {
  const isFile = info.node_kind === "file";
  const limit = info.downloads_left !== null ? ` · ${info.downloads_left} downloads left` : "";
  if (info.kind === "upload") {
    return (
      <>
        <h1 className="flex items-center gap-2 text-xl font-semibold">
          <FolderIcon className="size-6 text-sky-600" /> {info.name}
        </h1>
        <p className="mt-1 text-sm text-slate-600 dark:text-slate-400">A drop box: send files here. You cannot see what others sent.</p>
        <UploadForm token={token} folderId={null} onUploaded={reload} />
      </>
    );
  }
  return (
    <>
      <div className="flex flex-wrap items-start justify-between gap-4">
        <div className="min-w-0">
          <h1 className="flex items-center gap-2 text-xl font-semibold break-all">
            {isFile ? <DocumentIcon className="size-6 shrink-0 text-slate-400" /> : <FolderIcon className="size-6 shrink-0 text-sky-600" />} {info.name}
          </h1>
          <p className="mt-1 text-sm text-slate-600 dark:text-slate-400" data-testid="public-meta">
            {isFile ? formatBytes(info.size) : "Folder"}
            {limit}
          </p>
        </div>
        <a className={buttonClass.primary} href={publicContentUrl(token, isFile ? undefined : (info.folder_id ?? undefined))}>
          <DownloadIcon className="size-4" /> {isFile ? "Download" : "Download all (zip)"}
        </a>
      </div>
      {!isFile && info.items !== null && (
        <>
          {info.path.length > 0 && (
            <nav aria-label="Breadcrumbs" className="mt-5 flex flex-wrap gap-1 text-sm">
              {info.path.map((entry, index) => (
                <span key={entry.id} className="flex items-center gap-1">
                  {index > 0 && <span className="text-slate-400">/</span>}
                  <button type="button" className="text-sky-700 hover:underline dark:text-sky-400" onClick={() => { onOpenFolder(index === 0 ? null : entry.id); }}>
                    {entry.name}
                  </button>
                </span>
              ))}
            </nav>
          )}
          {info.items.length === 0 ? (
            <p className="mt-5 text-sm text-slate-500">This folder is empty.</p>
          ) : (
            <ul className="mt-4 divide-y divide-slate-100 rounded-lg border border-slate-200 dark:divide-slate-800 dark:border-slate-800" aria-label="Contents">
              {info.items.map((item) => (
                <li key={item.id} data-testid="public-row" className="flex items-center justify-between gap-3 px-3 py-2 text-sm">
                  <span className="flex min-w-0 items-center gap-2">
                    {item.kind === "file" ? <DocumentIcon className="size-4 shrink-0 text-slate-400" /> : <FolderIcon className="size-4 shrink-0 text-sky-600" />}
                    {item.kind === "folder" ? (
                      <button type="button" className="truncate font-medium hover:underline" onClick={() => { onOpenFolder(item.id); }}>
                        {item.name}
                      </button>
                    ) : (
                      <a className="truncate font-medium hover:underline" href={publicContentUrl(token, item.id)}>
                        {item.name}
                      </a>
                    )}
                  </span>
                  <span className="shrink-0 text-slate-500">{item.kind === "file" ? formatBytes(item.size) : "—"}</span>
                </li>
              ))}
            </ul>
          )}
        </>
      )}
      {info.kind === "edit" && <UploadForm token={token} folderId={info.folder_id} onUploaded={reload} />}
    </>
  );
}

export function PublicLinkPage() {
  useDocumentTitle("Shared link");
  const { token = "" } = useParams();
  const [folderId, setFolderId] = useState<string | null>(null);
  const { data, error, isFetching: loading } = usePublicLink(token, folderId);
  const invalidate = useInvalidate();
  const reload = (): void => void invalidate(filesKeys.publicLink(token, folderId));

  let body: ReactNode;
  if (error?.problem?.type === PASSWORD_NEEDED) {
    body = <PasswordForm token={token} onUnlocked={reload} />;
  } else if (error !== null) {
    const gone = error.status === 410;
    body = (
      <div role="alert">
        <h1 className="text-xl font-semibold">{gone ? "This link no longer works" : error.status === 404 ? "This link does not exist" : "Cannot open this link"}</h1>
        <p className="mt-2 text-sm text-slate-600 dark:text-slate-400">{error.status === 404 ? "It may have been revoked, or the address is incomplete." : error.message}</p>
      </div>
    );
  } else if (loading && data === undefined) {
    body = <Skeleton className="h-24 w-full" />;
  } else if (data !== undefined) {
    body = <Opened token={token} info={data} onOpenFolder={setFolderId} reload={reload} />;
  }
  return <Frame>{body}</Frame>;
}
