/** Linked sign-in providers: the external providers your organization offers, which ones sign you in, link and unlink. */
import { useEffect, useState } from "react";

import { clearFederationFragment, federationKeys, readFederationFragment, startLink, unlinkProvider, useMyProviders, type LinkedProvider } from "../../api/federation";
import { useInvalidate } from "../../api/queryClient";
import { Badge } from "../../components/Badge";
import { buttonClass } from "../../components/Button";
import { Card, Skeleton } from "../../components/Card";
import { ConfirmDialog } from "../../components/Dialog";
import { Alert } from "../../components/Form";
import { describeTimestamp } from "../../lib/format";
import { useConfirm, useTask } from "../../lib/useAction";

function When({ value, empty }: { value: string | null | undefined; empty: string }) {
  const { text, title } = describeTimestamp(value ?? null);
  return value === null || value === undefined ? <span>{empty}</span> : <span title={title}>{text}</span>;
}

function ProviderRow({ provider, busy, onLink, onUnlink }: { provider: LinkedProvider; busy: boolean; onLink: () => void; onUnlink: () => void }) {
  return (
    <li data-testid="linked-provider" data-slug={provider.slug} className="flex items-center gap-4 py-3.5">
      <div className="min-w-0 flex-1">
        <p className="flex items-center gap-2 text-sm font-medium text-slate-900 dark:text-white">
          {provider.name}
          {provider.linked ? <Badge tone="success">Linked</Badge> : <Badge>Not linked</Badge>}
        </p>
        <p className="mt-0.5 text-xs text-slate-500 dark:text-slate-400">
          {provider.linked ? (
            <>
              Linked <When value={provider.linked_at} empty="" />
              <span aria-hidden="true"> · </span>
              Last sign-in <When value={provider.last_login_at} empty="never" />
            </>
          ) : (
            `Link it to sign in with “${provider.label}” on the sign-in page.`
          )}
        </p>
      </div>
      {provider.linked ? (
        <button type="button" aria-label={`Unlink ${provider.name}`} className={buttonClass.smallDanger} onClick={onUnlink}>
          Unlink
        </button>
      ) : (
        <button type="button" aria-label={`Link ${provider.name}`} className={buttonClass.small} disabled={busy} onClick={onLink}>
          {busy ? "Opening…" : "Link"}
        </button>
      )}
    </li>
  );
}

export function LinkedProvidersCard() {
  const { data: providers, error: loadError, isFetching: loading } = useMyProviders();
  const invalidate = useInvalidate();
  const [notice, setNotice] = useState<string | null>(null);
  const [fragment] = useState(readFederationFragment);
  const { run, busy, error, setError } = useTask();
  const unlink = useConfirm(
    (provider: LinkedProvider) => unlinkProvider(provider.slug),
    (_done, provider) => {
      setNotice(`${provider.name} no longer signs you in.`);
      void invalidate(federationKeys.mine);
    },
  );

  useEffect(() => {
    clearFederationFragment(fragment);
    if (fragment.error !== null) setError(fragment.error);
  }, [fragment, setError]);

  // Nothing to offer: the card stays away rather than show an empty list.
  if (providers?.length === 0 && fragment.error === null) return null;

  const link = (provider: LinkedProvider): void => {
    setNotice(null);
    void run(async () => {
      // The provider's page comes next; it sends the browser back here once the account is linked.
      window.location.assign(await startLink(provider.slug));
    });
  };

  const shown = error?.message ?? loadError?.message ?? null;
  return (
    <Card title="Linked sign-in providers">
      <p className="text-sm text-slate-600 dark:text-slate-400">
        Sign in to Nubes with your organization&apos;s accounts elsewhere. Linking asks the provider who you are; Nubes never links an account because an email address matches.
      </p>
      {notice !== null && (
        <div className="mt-4">
          <Alert tone="success">{notice}</Alert>
        </div>
      )}
      {shown !== null && (
        <div className="mt-4">
          <Alert tone="danger" testId="linked-providers-error">
            {shown}
          </Alert>
        </div>
      )}
      {providers === undefined && loading && (
        <div className="mt-4" aria-busy="true">
          <Skeleton className="h-12 w-full" />
        </div>
      )}
      {providers !== undefined && providers.length > 0 && (
        <ul className="mt-2 divide-y divide-slate-100 dark:divide-slate-800" aria-label="Linked sign-in providers">
          {providers.map((provider) => (
            <ProviderRow
              key={provider.slug}
              provider={provider}
              busy={busy}
              onLink={() => {
                link(provider);
              }}
              onUnlink={() => {
                setNotice(null);
                unlink.ask(provider);
              }}
            />
          ))}
        </ul>
      )}
      <ConfirmDialog title={`Unlink ${unlink.target?.name ?? ""}?`} confirmLabel="Unlink" {...unlink.dialog}>
        <p>
          {unlink.target?.name ?? "This provider"} stops signing you in at once. If it is your only way in, Nubes refuses: add a passkey or link another provider
          first.
        </p>
      </ConfirmDialog>
    </Card>
  );
}
