/**
 * /account: who you are (tenant, roles, permissions, whether your email is confirmed), your password,
 * two-factor sign-in and passkeys, where you are signed in, your devices' app passwords and your access tokens.
 */
import { useState, type ReactNode } from "react";

import { useInvalidate } from "../../api/queryClient";
import { identityKeys } from "../../api/queryKeys";
import { sendMyVerificationEmail } from "../../api/security";

import { displayName, useMe } from "../../auth/session";
import { Avatar } from "../../components/Avatar";
import { Badge } from "../../components/Badge";
import { buttonClass } from "../../components/Button";
import { Card } from "../../components/Card";
import { PageHeader } from "../../components/PageHeader";
import { useDocumentTitle } from "../../hooks/useDocumentTitle";
import { describeTimestamp } from "../../lib/format";
import { useAction } from "../../lib/useAction";
import { ConnectedAppsCard } from "../apps/ConnectedAppsCard";
import { AppDataCard } from "./AppDataCard";
import { AppPasswordsCard } from "./AppPasswordsCard";
import { ChangePasswordCard } from "./ChangePasswordCard";
import { LinkedProvidersCard } from "./LinkedProvidersCard";
import { PasskeysCard } from "./PasskeysCard";
import { SessionsCard } from "./SessionsCard";
import { TokensCard } from "./TokensCard";
import { TwoFactorCard } from "./TwoFactorCard";

function Fact({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="py-2.5 sm:grid sm:grid-cols-3 sm:gap-4">
      <dt className="text-sm text-slate-500 dark:text-slate-400">{label}</dt>
      <dd className="mt-0.5 text-sm text-slate-900 sm:col-span-2 sm:mt-0 dark:text-slate-100">{children}</dd>
    </div>
  );
}

/** Mail the confirmation link again: `status` idle → sending → sent, or failed with its `message`; `send()` starts it. */
function useVerificationMail(): { status: "idle" | "sending" | "sent" | "failed"; message: string; send: () => void } {
  const [sent, setSent] = useState(false);
  const { run, busy, error } = useAction(sendMyVerificationEmail, () => {
    setSent(true);
  });
  const status = busy ? "sending" : sent ? "sent" : error !== null ? "failed" : "idle";
  return { status, message: error?.message ?? "", send: () => void run() };
}

/** The address, whether it is confirmed, and (when it is not) a button that mails the link again. */
function EmailStatus({ email, verifiedAt }: { email: string; verifiedAt: string | null | undefined }) {
  const state = useVerificationMail();
  const confirmed = verifiedAt !== null && verifiedAt !== undefined;
  return (
    <span className="flex flex-col items-start gap-1.5" data-testid="account-email">
      <span className="flex flex-wrap items-center gap-2">
        <span className="break-all">{email}</span>
        <Badge tone={confirmed ? "success" : "warning"}>{confirmed ? "Confirmed" : "Not confirmed"}</Badge>
      </span>
      {!confirmed && state.status !== "sent" && (
        <button
          type="button"
          className={buttonClass.small}
          disabled={state.status === "sending"}
          onClick={() => {
            state.send();
          }}
        >
          {state.status === "sending" ? "Sending…" : "Send confirmation link"}
        </button>
      )}
      {state.status === "sent" && (
        <span role="status" className="text-xs text-emerald-700 dark:text-emerald-300">
          Link sent. Open it from your inbox to confirm this address.
        </span>
      )}
      {state.status === "failed" && (
        <span role="alert" className="text-xs text-rose-700 dark:text-rose-300">
          {state.message}
        </span>
      )}
    </span>
  );
}

/** A new address an admin asked for: it replaces the current one once the link mailed to it is opened. */
function PendingEmail({ email }: { email: string }) {
  const state = useVerificationMail();
  return (
    <span className="flex flex-col items-start gap-1.5" data-testid="account-email-pending">
      <span className="flex flex-wrap items-center gap-2">
        <span className="break-all">{email}</span>
        <Badge tone="warning">Pending confirmation</Badge>
      </span>
      <span className="text-xs text-slate-500 dark:text-slate-400">Your address changes to this one when the link mailed to it is opened; until then mail goes to the current one.</span>
      {state.status === "sent" ? (
        <span role="status" className="text-xs text-emerald-700 dark:text-emerald-300">
          Link sent to {email}.
        </span>
      ) : (
        <button
          type="button"
          className={buttonClass.small}
          disabled={state.status === "sending"}
          onClick={() => {
            state.send();
          }}
        >
          {state.status === "sending" ? "Sending…" : "Send the link again"}
        </button>
      )}
      {state.status === "failed" && (
        <span role="alert" className="text-xs text-rose-700 dark:text-rose-300">
          {state.message}
        </span>
      )}
    </span>
  );
}

function ProfileCard() {
  const me = useMe();
  const { user, tenant, roles, permissions } = me;
  const name = displayName(user);
  const since = describeTimestamp(user.created_at);
  const lastLogin = describeTimestamp(user.last_login_at);
  return (
    <Card title="Profile" className="lg:col-span-2">
      <div className="flex items-center gap-4">
        <Avatar name={name} size="lg" />
        <div className="min-w-0">
          <p className="truncate text-lg font-semibold text-slate-900 dark:text-white">{name}</p>
          <p className="truncate text-sm text-slate-500 dark:text-slate-400" data-testid="account-username">
            @{user.username}
          </p>
        </div>
      </div>
      <dl className="mt-4 divide-y divide-slate-100 border-t border-slate-100 dark:divide-slate-800 dark:border-slate-800">
        <Fact label="Email">
          {user.email === null ? <span className="text-slate-400 dark:text-slate-500">Not set</span> : <EmailStatus email={user.email} verifiedAt={user.email_verified_at} />}
        </Fact>
        {user.pending_email && (
          <Fact label="New email">
            <PendingEmail email={user.pending_email} />
          </Fact>
        )}
        <Fact label="Tenant">
          {tenant.name} <span className="font-mono text-xs text-slate-500 dark:text-slate-400">({tenant.slug})</span>
        </Fact>
        <Fact label="Roles">
          <span className="flex flex-wrap gap-1.5">
            {roles.length === 0 && <span className="text-slate-400 dark:text-slate-500">None</span>}
            {roles.map((role) => (
              <Badge key={role.id} tone="brand">
                {role.name}
              </Badge>
            ))}
            {user.is_superadmin && <Badge tone="warning">super-admin</Badge>}
          </span>
        </Fact>
        <Fact label="Member since">
          <span title={since.title}>{since.text}</span>
        </Fact>
        <Fact label="Last sign-in">
          <span title={lastLogin.title}>{lastLogin.text}</span>
        </Fact>
      </dl>
      <h3 className="mt-5 text-sm font-medium text-slate-500 dark:text-slate-400">
        Permissions <span className="text-slate-400 dark:text-slate-500">({permissions.length})</span>
      </h3>
      <ul className="mt-2 flex flex-wrap gap-1.5" aria-label="Permissions">
        {permissions.map((code) => (
          <li key={code} className="rounded-md bg-slate-100 px-2 py-0.5 font-mono text-xs text-slate-700 dark:bg-slate-800 dark:text-slate-300">
            {code}
          </li>
        ))}
      </ul>
    </Card>
  );
}

export function AccountPage() {
  useDocumentTitle("Account");
  const invalidate = useInvalidate();
  return (
    <>
      <PageHeader title="Account" description="Your profile, how you sign in (password, two-factor, passkeys), the devices where you are signed in, app passwords for sync clients, and your access tokens." />
      <div className="grid items-start gap-6 lg:grid-cols-5">
        <ProfileCard />
        <div className="space-y-6 lg:col-span-3">
          <ChangePasswordCard
            onChanged={() => {
              // A password change ends every other session: a fresh list.
              void invalidate(identityKeys.sessions);
            }}
          />
          <TwoFactorCard />
          <PasskeysCard />
          <LinkedProvidersCard />
          <SessionsCard />
          <AppPasswordsCard />
          <ConnectedAppsCard />
          <AppDataCard />
          <TokensCard />
        </div>
      </div>
    </>
  );
}
