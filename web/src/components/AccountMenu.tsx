/** The account area of the top bar: who is signed in and in which tenant, with Account, Admin and Sign out. */
import { useEffect, useId, useRef, useState } from "react";
import { Link } from "react-router";

import { canAny, displayName, useAuth } from "../auth/session";
import { Avatar } from "./Avatar";
import { buttonClass } from "./Button";
import { ChevronDownIcon, ShieldIcon, SignOutIcon, UserIcon } from "./icons";

const itemClass =
  "flex w-full items-center gap-2.5 rounded-lg px-3 py-2 text-left text-sm font-medium text-slate-700 hover:bg-slate-100 hover:text-slate-900 dark:text-slate-200 dark:hover:bg-slate-800 dark:hover:text-white";

export function AccountMenu() {
  const { state, signOut } = useAuth();
  const [open, setOpen] = useState(false);
  const [leaving, setLeaving] = useState(false);
  const root = useRef<HTMLDivElement>(null);
  const panelId = useId();

  useEffect(() => {
    if (!open) return;
    const onPointerDown = (event: PointerEvent): void => {
      if (root.current && !root.current.contains(event.target as Node)) setOpen(false);
    };
    const onKeyDown = (event: KeyboardEvent): void => {
      if (event.key === "Escape") setOpen(false);
    };
    document.addEventListener("pointerdown", onPointerDown);
    document.addEventListener("keydown", onKeyDown);
    return () => {
      document.removeEventListener("pointerdown", onPointerDown);
      document.removeEventListener("keydown", onKeyDown);
    };
  }, [open]);

  if (state.status === "loading") {
    return <span className="ml-auto block size-9 animate-pulse rounded-full bg-slate-200 dark:bg-slate-700" aria-hidden="true" />;
  }
  if (state.status !== "signed-in") {
    return (
      <Link to="/login" className={`ml-auto ${buttonClass.secondary}`}>
        <UserIcon className="size-4" />
        Sign in
      </Link>
    );
  }

  const { me } = state;
  const name = displayName(me.user);
  const close = (): void => {
    setOpen(false);
  };

  return (
    <div ref={root} className="relative ml-auto">
      <button
        type="button"
        data-testid="account-menu"
        aria-label={`Account: ${name}, ${me.tenant.name}`}
        aria-expanded={open}
        aria-controls={panelId}
        onClick={() => {
          setOpen((value) => !value);
        }}
        className="flex items-center gap-2.5 rounded-full p-1 text-left hover:bg-slate-100 sm:rounded-xl sm:pr-2 dark:hover:bg-slate-800"
      >
        <Avatar name={name} />
        <span className="hidden min-w-0 leading-tight sm:block">
          <span className="block max-w-40 truncate text-sm font-medium text-slate-900 dark:text-white">{name}</span>
          <span className="block max-w-40 truncate text-xs text-slate-500 dark:text-slate-400">{me.tenant.name}</span>
        </span>
        <ChevronDownIcon className="hidden size-4 text-slate-400 sm:block" />
      </button>
      <div
        id={panelId}
        data-testid="account-menu-panel"
        hidden={!open}
        className="absolute right-0 z-50 mt-2 w-72 rounded-xl border border-slate-200 bg-white p-2 shadow-lg dark:border-slate-800 dark:bg-slate-900"
      >
        <div className="flex items-center gap-3 px-3 pt-2 pb-3">
          <Avatar name={name} size="md" />
          <div className="min-w-0">
            <p className="truncate text-sm font-semibold text-slate-900 dark:text-white">{name}</p>
            <p className="truncate text-xs text-slate-500 dark:text-slate-400">
              @{me.user.username} · {me.tenant.name}
            </p>
          </div>
        </div>
        <div className="border-t border-slate-200 pt-2 dark:border-slate-800">
          <Link to="/account" className={itemClass} onClick={close}>
            <UserIcon className="size-4 text-slate-400" />
            Account
          </Link>
          {canAny(me, "admin.") && (
            <Link to="/admin" className={itemClass} onClick={close}>
              <ShieldIcon className="size-4 text-slate-400" />
              Admin
            </Link>
          )}
          <button
            type="button"
            className={itemClass}
            disabled={leaving}
            onClick={() => {
              setLeaving(true);
              close();
              void signOut().finally(() => {
                setLeaving(false);
              });
            }}
          >
            <SignOutIcon className="size-4 text-slate-400" />
            Sign out
          </button>
        </div>
      </div>
    </div>
  );
}
