/** The members of one group: remove any, and add people found by searching the tenant's users. */
import { useState } from "react";

import { addGroupMember, removeGroupMember, type Group, type GroupMember } from "../../../api/access";
import { useGroupMembers, useUserSearch } from "../../../api/identityQueries";
import { useInvalidate } from "../../../api/queryClient";
import { identityKeys } from "../../../api/queryKeys";
import { displayName } from "../../../auth/session";
import { Avatar } from "../../../components/Avatar";
import { buttonClass } from "../../../components/Button";
import { Skeleton } from "../../../components/Card";
import { Alert, inputClass } from "../../../components/Form";
import { SearchIcon } from "../../../components/icons";
import { useDebounced } from "../../../hooks/useDebounced";
import { useTask } from "../../../lib/useAction";

/** The members of one group: remove any, and add people found by searching the tenant's users. */
export function MembersPanel({ group, onCount }: { group: Group; onCount: (count: number) => void }) {
  const { data: loaded, error, isFetching: loading } = useGroupMembers(group.id);
  /** The list after this panel's own changes (a fresh read could race the change it follows). */
  const [changed, setChanged] = useState<GroupMember[] | null>(null);
  const members = changed ?? loaded;
  const [search, setSearch] = useState("");
  const task = useTask();
  const invalidate = useInvalidate();
  const { busy } = task;
  const actionError = task.error?.message ?? null;

  const query = useDebounced(search.trim(), 250);

  const { data: candidates } = useUserSearch(query, 8);

  const change = async (action: () => Promise<void>, next: GroupMember[]): Promise<void> => {
    await task.run(async () => {
      await action();
      setChanged(next);
      onCount(next.length);
      // Cached copies are out of date; this panel keeps showing its own list (a fresh read could race the change).
      void invalidate(identityKeys.groupMembers(group.id), identityKeys.groups);
    });
  };

  const memberIds = new Set((members ?? []).map((member) => member.id));
  const addable = (candidates?.items ?? []).filter((user) => !memberIds.has(user.id));

  return (
    <div className="space-y-5">
      {(error ?? actionError) !== null && <Alert tone="danger">{error?.message ?? actionError}</Alert>}
      <section>
        <h3 className="text-sm font-medium text-slate-800 dark:text-slate-200">Members{members ? ` (${members.length})` : ""}</h3>
        {members === undefined && loading && <Skeleton className="mt-2 h-10 w-full" />}
        {members?.length === 0 && <p className="mt-2 text-sm text-slate-500 dark:text-slate-400">No members yet.</p>}
        {members !== undefined && members.length > 0 && (
          <ul className="mt-2 max-h-56 divide-y divide-slate-100 overflow-y-auto dark:divide-slate-800" aria-label="Members">
            {members.map((member) => (
              <li key={member.id} data-testid="member-row" data-username={member.username} className="flex items-center gap-3 py-2">
                <Avatar name={displayName(member)} size="sm" />
                <span className="min-w-0 flex-1">
                  <span className="block truncate text-sm font-medium text-slate-900 dark:text-white">{displayName(member)}</span>
                  <span className="block truncate text-xs text-slate-500 dark:text-slate-400">@{member.username}</span>
                </span>
                <button
                  type="button"
                  aria-label={`Remove ${member.username}`}
                  className={buttonClass.smallDanger}
                  disabled={busy}
                  onClick={() => {
                    void change(
                      () => removeGroupMember(group.id, member.id),
                      members.filter((other) => other.id !== member.id),
                    );
                  }}
                >
                  Remove
                </button>
              </li>
            ))}
          </ul>
        )}
      </section>
      <section>
        <h3 className="text-sm font-medium text-slate-800 dark:text-slate-200">Add a member</h3>
        <label className="relative mt-2 block">
          <span className="sr-only">Search users to add</span>
          <SearchIcon className="pointer-events-none absolute top-1/2 left-3 size-4 -translate-y-1/2 text-slate-400" />
          <input
            type="search"
            className={`${inputClass} pl-9`}
            placeholder="Search by username, email or name"
            value={search}
            onChange={(event) => {
              setSearch(event.target.value);
            }}
          />
        </label>
        {query !== "" && candidates !== undefined && addable.length === 0 && (
          <p className="mt-2 text-sm text-slate-500 dark:text-slate-400">No one else matches “{query}”.</p>
        )}
        {addable.length > 0 && (
          <ul className="mt-2 divide-y divide-slate-100 dark:divide-slate-800" aria-label="Users to add">
            {addable.map((user) => (
              <li key={user.id} className="flex items-center gap-3 py-2">
                <Avatar name={displayName(user)} size="sm" />
                <span className="min-w-0 flex-1">
                  <span className="block truncate text-sm font-medium text-slate-900 dark:text-white">{displayName(user)}</span>
                  <span className="block truncate text-xs text-slate-500 dark:text-slate-400">@{user.username}</span>
                </span>
                <button
                  type="button"
                  aria-label={`Add ${user.username}`}
                  className={buttonClass.small}
                  disabled={busy}
                  onClick={() => {
                    void change(
                      () => addGroupMember(group.id, user.id),
                      [...(members ?? []), user],
                    );
                  }}
                >
                  Add
                </button>
              </li>
            ))}
          </ul>
        )}
      </section>
    </div>
  );
}
