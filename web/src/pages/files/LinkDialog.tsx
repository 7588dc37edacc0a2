/** "Get link…": make a public link (kind, expiry within the organization's policy, password, download limit), copy it, list and revoke links. */
import { useState, type SubmitEvent } from "react";

import { useLinkPolicy, useLinks } from "../../api/filesQueries";
import { toApiError } from "../../api/problem";
import { useInvalidate } from "../../api/queryClient";
import { filesKeys } from "../../api/queryKeys";
import { createLink, deleteLink, LINK_KIND_LABELS, linkAddress, linkDavAddress, type LinkCreate, type LinkKind, type PublicLinkEntry } from "../../api/sharing";
import { Badge } from "../../components/Badge";
import { buttonClass } from "../../components/Button";
import { Skeleton } from "../../components/Card";
import { Dialog } from "../../components/Dialog";
import { Alert, Field, inputClass, TextField } from "../../components/Form";
import { describeTimestamp } from "../../lib/format";
import { useAction } from "../../lib/useAction";

/** YYYY-MM-DD of a day `days` from today (local time), for a date input's value and max. */
function dayFromNow(days: number): string {
  const day = new Date();
  day.setDate(day.getDate() + days);
  const pad = (value: number): string => String(value).padStart(2, "0");
  return `${day.getFullYear()}-${pad(day.getMonth() + 1)}-${pad(day.getDate())}`;
}

function CopyButton({ text, label }: { text: string; label: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <button
      type="button"
      className={buttonClass.small}
      aria-label={label}
      onClick={() => {
        void navigator.clipboard.writeText(text).then(
          () => {
            setCopied(true);
          },
          () => {
            setCopied(false);
          },
        );
      }}
    >
      {copied ? "Copied" : "Copy"}
    </button>
  );
}

function LinkRow({ link, onRevoke }: { link: PublicLinkEntry; onRevoke: () => void }) {
  const address = linkAddress(link);
  const davAddress = linkDavAddress(link);
  return (
    <li data-testid="link-row" className="space-y-1.5 py-3 text-sm">
      <div className="flex flex-wrap items-center gap-2">
        <Badge tone="brand">{LINK_KIND_LABELS[link.kind]}</Badge>
        {!link.active && (
          <span title={`${link.created_by?.name ?? "Whoever made this link"} no longer holds reshare on this, so the link opens nothing.`}>
            <Badge tone="danger">Ended</Badge>
          </span>
        )}
        {link.has_password && <Badge>Password</Badge>}
        <Badge tone={link.expires_at ? "warning" : "neutral"}>{link.expires_at ? `Expires ${describeTimestamp(link.expires_at).text}` : "No expiry"}</Badge>
        {link.max_downloads !== null && (
          <Badge>
            {link.download_count} of {link.max_downloads} downloads
          </Badge>
        )}
      </div>
      <div className="flex items-center gap-2">
        <input readOnly className={`${inputClass} font-mono text-xs`} value={address} aria-label="Link address" data-testid="link-address" />
        <CopyButton text={address} label="Copy link" />
        <button type="button" className={buttonClass.smallDanger} onClick={onRevoke}>
          Revoke
        </button>
      </div>
      <details className="text-xs text-slate-500 dark:text-slate-400">
        <summary className="cursor-pointer select-none">Open in a WebDAV client</summary>
        <div className="mt-1.5 flex items-center gap-2">
          <input readOnly className={`${inputClass} font-mono text-xs`} value={davAddress} aria-label="WebDAV address" data-testid="link-dav-address" />
          <CopyButton text={davAddress} label="Copy WebDAV address" />
        </div>
        <p className="mt-1">
          Mount it as a drive or point rclone at it{link.has_password ? "; the link's password is the password (any username)" : ""}. It allows what the link allows.
        </p>
      </details>
    </li>
  );
}

export function LinkDialog({ entry, onClose }: { entry: { id: string; name: string; kind: string }; onClose: () => void }) {
  const { data: policy } = useLinkPolicy();
  const { data: links, error: loadError, isFetching: loading } = useLinks(entry.id);
  const invalidate = useInvalidate();
  const reload = (): void => void invalidate(filesKeys.links(entry.id));
  const [kind, setKind] = useState<LinkKind>("view");
  const [expiry, setExpiry] = useState<string | null>(null);
  const [password, setPassword] = useState("");
  const [maxDownloads, setMaxDownloads] = useState("");
  const { run, busy, error, setError } = useAction(createLink, () => {
    setPassword("");
    setMaxDownloads("");
    reload();
  });

  const defaultDays = policy?.default_expiry_days ?? policy?.max_expiry_days ?? null;
  const expiryValue = expiry ?? (defaultDays !== null ? dayFromNow(defaultDays) : "");
  const maxDay = policy?.max_expiry_days ? dayFromNow(policy.max_expiry_days) : undefined;

  const submit = async (event: SubmitEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    const body: LinkCreate = { kind };
    if (expiryValue) body.expires_at = new Date(`${expiryValue}T23:59:59`).toISOString();
    if (password) body.password = password;
    if (maxDownloads) body.max_downloads = Number(maxDownloads);
    await run(entry.id, body);
  };

  const kinds = (Object.keys(LINK_KIND_LABELS) as LinkKind[]).filter((option) => option !== "upload" || entry.kind !== "file");
  return (
    <Dialog open title={`Link to ${entry.name}`} description="Anyone with the link can open it, without an account." onClose={onClose}>
      <div className="space-y-5">
        <form
          className="space-y-4"
          onSubmit={(event) => {
            void submit(event);
          }}
        >
          {error !== null && <Alert tone="danger">{error.message}</Alert>}
          <div className="grid gap-4 sm:grid-cols-2">
            <Field label="What visitors may do">
              {(control) => (
                <select
                  {...control}
                  className={inputClass}
                  value={kind}
                  onChange={(event) => {
                    setKind(event.target.value as LinkKind);
                  }}
                >
                  {kinds.map((option) => (
                    <option key={option} value={option}>
                      {LINK_KIND_LABELS[option]}
                    </option>
                  ))}
                </select>
              )}
            </Field>
            <Field
              label="Expires on"
              optional={!policy?.max_expiry_days}
              hint={policy?.max_expiry_days ? `Your organization allows at most ${policy.max_expiry_days} days.` : "Leave empty for no expiry."}
            >
              {(control) => (
                <input
                  {...control}
                  type="date"
                  className={inputClass}
                  min={dayFromNow(0)}
                  max={maxDay}
                  required={Boolean(policy?.max_expiry_days)}
                  value={expiryValue}
                  onChange={(event) => {
                    setExpiry(event.target.value);
                  }}
                />
              )}
            </Field>
            <TextField
              label="Password" optional={!policy?.require_password} hint={policy?.require_password ? "Your organization asks for a password on every link." : undefined}
              type="password"
              autoComplete="new-password"
              required={Boolean(policy?.require_password)}
              value={password}
              onChange={setPassword}
            />
            <TextField
              label="Download limit" optional
              type="number"
              min={1}
              value={maxDownloads}
              onChange={setMaxDownloads}
            />
          </div>
          <div className="flex justify-end">
            <button type="submit" className={buttonClass.primary} disabled={busy}>
              {busy ? "Creating…" : "Create link"}
            </button>
          </div>
        </form>
        <div>
          <h3 className="text-sm font-semibold text-slate-800 dark:text-slate-200">Links</h3>
          {loadError !== null && <Alert tone="danger">{loadError.message}</Alert>}
          {loading && links === undefined ? (
            <Skeleton className="mt-2 h-16 w-full" />
          ) : links?.length ? (
            <ul className="divide-y divide-slate-100 dark:divide-slate-800" aria-label="Links">
              {links.map((link) => (
                <LinkRow
                  key={link.id}
                  link={link}
                  onRevoke={() => {
                    void deleteLink(entry.id, link.id).then(reload, (caught: unknown) => {
                      setError(toApiError(caught));
                    });
                  }}
                />
              ))}
            </ul>
          ) : (
            <p className="mt-2 text-sm text-slate-500 dark:text-slate-400">No links yet.</p>
          )}
        </div>
        <div className="flex justify-end">
          <button type="button" className={buttonClass.secondary} onClick={onClose}>
            Done
          </button>
        </div>
      </div>
    </Dialog>
  );
}
