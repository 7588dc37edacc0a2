/** /documents/manage (documents.manage): the organization's document types, correspondents, tags, category tree, settings and classifier. */
import { Link } from "react-router";

import { can, useMe } from "../../../auth/session";
import { buttonClass } from "../../../components/Button";
import { EmptyState } from "../../../components/EmptyState";
import { ShieldIcon } from "../../../components/icons";
import { PageHeader } from "../../../components/PageHeader";
import { useDocumentTitle } from "../../../hooks/useDocumentTitle";
import { AssistantCard } from "./AssistantCard";
import { CategoriesCard } from "./CategoriesCard";
import { CustomFieldsCard } from "./CustomFieldsCard";
import { ClassifierCard } from "./ClassifierCard";
import { SettingsCard } from "./SettingsCard";
import { TagsCard } from "./TagsCard";
import { TermsCard } from "./TermsCard";

export function ManagePage() {
  useDocumentTitle("Manage documents");
  const me = useMe();
  const back = (
    <Link to="/documents" className={buttonClass.secondary}>
      Back to documents
    </Link>
  );
  if (!can(me, "documents.manage")) {
    return (
      <>
        <PageHeader title="Manage documents" actions={back} />
        <EmptyState icon={ShieldIcon} title="Only document managers change these">
          Types, correspondents, tags and categories are shared by everyone in {me.tenant.name}; an administrator of your organization manages them.
        </EmptyState>
        <AssistantCard />
      </>
    );
  }
  return (
    <>
      <PageHeader
        title="Manage documents"
        description={`Types, correspondents, tags and categories, shared by everyone in ${me.tenant.name} to file their documents with.`}
        actions={back}
      />
      <div className="grid items-start gap-6 lg:grid-cols-2">
        <TermsCard kind="types" />
        <TermsCard kind="correspondents" />
        <TagsCard />
        <CategoriesCard />
        <CustomFieldsCard />
        <SettingsCard />
        <ClassifierCard />
        <AssistantCard />
      </div>
    </>
  );
}
