/** /admin/users: the tenant's users, searchable and paged; create one, deactivate or reactivate one. */
import { useCallback, useEffect, useState } from "react";

import { listUsers, updateUser, type User } from "../../api/identity";
import { toApiError } from "../../api/problem";
import { displayName, useMe } from "../../auth/session";
import { Avatar } from "../../components/Avatar";
import { Badge } from "../../components/Badge";
import { buttonClass } from "../../components/Button";
import { Skeleton } from "../../components/Card";
import { ConfirmDialog } from "../../components/Dialog";
import { Alert, inputClass } from "../../components/Form";
import { PlusIcon, SearchIcon } from "../../components/icons";
import { PageHeader } from "../../components/PageHeader";
import { Pagination } from "../../components/Pagination";
import { useDocumentTitle } from "../../hooks/useDocumentTitle";
import { useResource } from "../../hooks/useResource";
import { describeTimestamp } from "../../lib/format";
import { NewUserDialog } from "./NewUserDialog";

const PAGE_SIZE = 20;

const th = "px-4 py-3 text-left text-xs font-semibold tracking-wide text-slate-500 uppercase dark:text-slate-400";
const td = "px-4 py-3 align-middle";

function Timestamp({ value, empty }: { value: string | null; empty: string }) {
  const { text, title } = describeTimestamp(value);
  return value === null ? <span className="text-slate-400 dark:text-slate-500">{empty}</span> : <span title={title}>{text}</span>;
}

function UserRow({ user, isSelf, onToggle }: { user: User; isSelf: boolean; onToggle: (user: User) => void }) {
  const name = displayName(user);
  return (
    <tr data-testid="user-row" data-username={user.username} className="hover:bg-slate-50/80 dark:hover:bg-slate-800/40">
      <td className={td}>
        <div className="flex items-center gap-3">
          <Avatar name={name} size="sm" />
          <div className="min-w-0">
            <p className="truncate font-medium text-slate-900 dark:text-white">
              {name}
              {isSelf && <span className="ml-2 text-xs font-normal text-slate-500 dark:text-slate-400">(you)</span>}
            </p>
            <p className="truncate text-xs text-slate-500 dark:text-slate-400">@{user.username}</p>
          </div>
        </div>
      </td>
      <td className={`${td} text-slate-600 dark:text-slate-300`}>{user.email ?? <span className="text-slate-400 dark:text-slate-500">—</span>}</td>
      <td className={td}>
        <span className="flex flex-wrap gap-1.5">
          {user.is_active ? <Badge tone="success">Active</Badge> : <Badge tone="danger">Deactivated</Badge>}
          {user.is_superadmin && <Badge tone="warning">Super-admin</Badge>}
        </span>
      </td>
      <td className={`${td} text-slate-600 dark:text-slate-300`}>
        <Timestamp value={user.last_login_at} empty="Never" />
      </td>
      <td className={`${td} text-slate-600 dark:text-slate-300`}>
        <Timestamp value={user.created_at} empty="—" />
      </td>
      <td className={`${td} text-right`}>
        {isSelf ? null : user.is_active ? (
          <button
            type="button"
            className={buttonClass.smallDanger}
            onClick={() => {
              onToggle(user);
            }}
          >
            Deactivate
          </button>
        ) : (
          <button
            type="button"
            className={buttonClass.small}
            onClick={() => {
              onToggle(user);
            }}
          >
            Reactivate
          </button>
        )}
      </td>
    </tr>
  );
}

export function UsersPage() {
  useDocumentTitle("Users");
  const me = useMe();
  const [search, setSearch] = useState("");
  const [query, setQuery] = useState("");
  const [offset, setOffset] = useState(0);
  const [creating, setCreating] = useState(false);
  const [toggling, setToggling] = useState<User | null>(null);
  const [busy, setBusy] = useState(false);
  const [toggleError, setToggleError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  // Search as the admin types, once they pause.
  useEffect(() => {
    const timer = window.setTimeout(() => {
      setQuery(search.trim());
    }, 250);
    return () => {
      window.clearTimeout(timer);
    };
  }, [search]);

  const load = useCallback((signal: AbortSignal) => listUsers({ ...(query ? { q: query } : {}), limit: PAGE_SIZE, offset }, signal), [query, offset]);
  const { data: page, error, loading, reload } = useResource(load);

  const confirmToggle = async (): Promise<void> => {
    if (toggling === null) return;
    setBusy(true);
    setToggleError(null);
    try {
      const updated = await updateUser(toggling.id, { is_active: !toggling.is_active });
      setNotice(updated.is_active ? `${updated.username} can sign in again.` : `${updated.username} is deactivated and was signed out everywhere.`);
      setToggling(null);
      reload();
    } catch (caught) {
      setToggleError(toApiError(caught).message);
    } finally {
      setBusy(false);
    }
  };

  const deactivating = toggling?.is_active ?? false;

  return (
    <>
      <PageHeader
        title="Users"
        description={`Everyone who can sign in to ${me.tenant.name}.`}
        actions={
          <button
            type="button"
            className={buttonClass.primary}
            onClick={() => {
              setNotice(null);
              setCreating(true);
            }}
          >
            <PlusIcon className="size-4" />
            New user
          </button>
        }
      />

      {notice !== null && (
        <div className="mb-4">
          <Alert tone="success">{notice}</Alert>
        </div>
      )}

      <div className="overflow-hidden rounded-xl border border-slate-200 bg-white shadow-sm dark:border-slate-800 dark:bg-slate-900">
        <div className="flex flex-wrap items-center gap-3 border-b border-slate-200 p-4 dark:border-slate-800">
          <label className="relative w-full max-w-sm">
            <span className="sr-only">Search users</span>
            <SearchIcon className="pointer-events-none absolute top-1/2 left-3 size-4 -translate-y-1/2 text-slate-400" />
            <input
              type="search"
              className={`${inputClass} pl-9`}
              placeholder="Search by username, email or name"
              value={search}
              onChange={(event) => {
                setSearch(event.target.value);
                setOffset(0);
              }}
            />
          </label>
          {loading && page !== undefined && <span className="text-xs text-slate-500 dark:text-slate-400">Loading…</span>}
        </div>

        {error !== null && (
          <div className="p-4">
            <Alert tone="danger">{error.message}</Alert>
          </div>
        )}

        <div className="overflow-x-auto">
          <table className="min-w-full divide-y divide-slate-200 text-sm dark:divide-slate-800">
            <thead className="bg-slate-50 dark:bg-slate-900/60">
              <tr>
                <th scope="col" className={th}>
                  User
                </th>
                <th scope="col" className={th}>
                  Email
                </th>
                <th scope="col" className={th}>
                  Status
                </th>
                <th scope="col" className={th}>
                  Last sign-in
                </th>
                <th scope="col" className={th}>
                  Created
                </th>
                <th scope="col" className={th}>
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody className="divide-y divide-slate-100 dark:divide-slate-800">
              {page === undefined && loading
                ? [0, 1, 2].map((row) => (
                    <tr key={row}>
                      <td className={td} colSpan={6}>
                        <Skeleton className="h-8 w-full" />
                      </td>
                    </tr>
                  ))
                : page?.items.map((user) => (
                    <UserRow
                      key={user.id}
                      user={user}
                      isSelf={user.id === me.user.id}
                      onToggle={(chosen) => {
                        setToggleError(null);
                        setToggling(chosen);
                      }}
                    />
                  ))}
              {page?.items.length === 0 && (
                <tr>
                  <td colSpan={6} className="px-4 py-12 text-center text-sm text-slate-500 dark:text-slate-400">
                    {query ? `No user matches “${query}”.` : "No users yet."}
                  </td>
                </tr>
              )}
            </tbody>
          </table>
        </div>
        {page !== undefined && <Pagination offset={offset} limit={PAGE_SIZE} total={page.total} shown={page.items.length} onChange={setOffset} />}
      </div>

      <NewUserDialog
        open={creating}
        onClose={() => {
          setCreating(false);
        }}
        onCreated={(user) => {
          setCreating(false);
          setNotice(`${user.username} was created and can sign in now.`);
          reload();
        }}
      />

      <ConfirmDialog
        open={toggling !== null}
        title={deactivating ? `Deactivate ${toggling?.username ?? ""}?` : `Reactivate ${toggling?.username ?? ""}?`}
        confirmLabel={deactivating ? "Deactivate" : "Reactivate"}
        tone={deactivating ? "danger" : "primary"}
        busy={busy}
        error={toggleError}
        onConfirm={() => {
          void confirmToggle();
        }}
        onCancel={() => {
          setToggling(null);
        }}
      >
        {deactivating ? (
          <p>They are signed out of every device at once and cannot sign in until someone reactivates them. Their data stays.</p>
        ) : (
          <p>They will be able to sign in again with their password.</p>
        )}
      </ConfirmDialog>
    </>
  );
}
