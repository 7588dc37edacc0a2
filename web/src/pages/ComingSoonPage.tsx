/** The honest placeholder for a section that has no page yet: what it will do, and that it is not here. */
import { Link } from "react-router";

import { Badge } from "../components/Badge";
import { buttonClass } from "../components/Button";
import { EmptyState } from "../components/EmptyState";
import { PageHeader } from "../components/PageHeader";
import { useDocumentTitle } from "../hooks/useDocumentTitle";
import type { Section } from "../sections";

export function ComingSoonPage({ section }: { section: Section }) {
  useDocumentTitle(section.name);
  return (
    <>
      <PageHeader title={section.name} description={section.description} badge={<Badge tone="brand">Coming soon</Badge>} />
      <EmptyState
        icon={section.icon}
        title={`${section.name} is not built yet`}
        actions={
          <>
            <Link to="/" className={buttonClass.secondary}>
              Back to overview
            </Link>
            <Link to="/status" className={buttonClass.secondary}>
              Server status
            </Link>
          </>
        }
      >
        <p>There is nothing to show here yet, and nothing is faked: this page fills in when the {section.name.toLowerCase()} service ships.</p>
      </EmptyState>
    </>
  );
}
