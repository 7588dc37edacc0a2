/** Any client route that matches nothing. */
import { Link, useLocation } from "react-router";

import { buttonClass } from "../components/Button";
import { EmptyState } from "../components/EmptyState";
import { CloudIcon } from "../components/icons";
import { PageHeader } from "../components/PageHeader";
import { useDocumentTitle } from "../hooks/useDocumentTitle";

export function NotFoundPage() {
  useDocumentTitle("Page not found");
  const { pathname } = useLocation();
  return (
    <>
      <PageHeader title="Page not found" />
      <EmptyState
        icon={CloudIcon}
        title="Nothing lives at this address"
        actions={
          <Link to="/" className={buttonClass.primary}>
            Go to the overview
          </Link>
        }
      >
        <p>
          There is no page at <code className="rounded bg-slate-100 px-1.5 py-0.5 font-mono text-xs break-all dark:bg-slate-800">{pathname}</code>. It
          may have moved, or the link may be mistyped.
        </p>
      </EmptyState>
    </>
  );
}
