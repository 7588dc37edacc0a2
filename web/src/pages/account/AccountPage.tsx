/** /account: who you are (tenant, roles, permissions), changing your password, and where you are signed in. */
import { useState, type ReactNode } from "react";

import { displayName, useMe } from "../../auth/session";
import { Avatar } from "../../components/Avatar";
import { Badge } from "../../components/Badge";
import { Card } from "../../components/Card";
import { PageHeader } from "../../components/PageHeader";
import { useDocumentTitle } from "../../hooks/useDocumentTitle";
import { describeTimestamp } from "../../lib/format";
import { ChangePasswordCard } from "./ChangePasswordCard";
import { SessionsCard } from "./SessionsCard";
import { TokensCard } from "./TokensCard";

function Fact({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="py-2.5 sm:grid sm:grid-cols-3 sm:gap-4">
      <dt className="text-sm text-slate-500 dark:text-slate-400">{label}</dt>
      <dd className="mt-0.5 text-sm text-slate-900 sm:col-span-2 sm:mt-0 dark:text-slate-100">{children}</dd>
    </div>
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
        <Fact label="Email">{user.email ?? <span className="text-slate-400 dark:text-slate-500">Not set</span>}</Fact>
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
  const [passwordChanges, setPasswordChanges] = useState(0);
  return (
    <>
      <PageHeader title="Account" description="Your profile, your password, the devices where you are signed in, and your access tokens." />
      <div className="grid items-start gap-6 lg:grid-cols-5">
        <ProfileCard />
        <div className="space-y-6 lg:col-span-3">
          <ChangePasswordCard
            onChanged={() => {
              setPasswordChanges((n) => n + 1);
            }}
          />
          {/* A password change ends every other session: a fresh list. */}
          <SessionsCard key={passwordChanges} />
          <TokensCard />
        </div>
      </div>
    </>
  );
}
