/** The banner: the menu button on narrow screens, the product mark, the search box (signed in) and the account area. */
import { Link } from "react-router";

import { can, useAuth } from "../auth/session";
import { AccountMenu } from "./AccountMenu";
import { GlobalSearch } from "./GlobalSearch";
import { CloseIcon, MenuIcon } from "./icons";
import { Logo } from "./Logo";

export function TopBar({ menuOpen, onToggleMenu }: { menuOpen: boolean; onToggleMenu: () => void }) {
  const { state } = useAuth();
  return (
    <header className="sticky top-0 z-40 flex h-16 items-center gap-3 border-b border-slate-200 bg-white/90 px-4 backdrop-blur sm:px-6 dark:border-slate-800 dark:bg-slate-900/90">
      <button
        type="button"
        className="-ml-1 inline-flex size-10 items-center justify-center rounded-lg text-slate-600 hover:bg-slate-100 hover:text-slate-900 lg:hidden dark:text-slate-300 dark:hover:bg-slate-800 dark:hover:text-white"
        aria-controls="sidebar"
        aria-expanded={menuOpen}
        onClick={onToggleMenu}
      >
        {menuOpen ? <CloseIcon className="size-6" /> : <MenuIcon className="size-6" />}
        <span className="sr-only">{menuOpen ? "Close menu" : "Open menu"}</span>
      </button>
      <Link to="/" className="rounded-lg" aria-label="Nubes overview">
        <Logo />
      </Link>
      {state.status === "signed-in" && can(state.me, "files.read") && <GlobalSearch />}
      <AccountMenu />
    </header>
  );
}
