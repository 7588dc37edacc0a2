/** What the documents list shows when it is empty: how to add the first document, that nothing is shared yet, or that no document matches the filters. */
import { Link } from "react-router";

import { buttonClass } from "../../components/Button";
import { EmptyState } from "../../components/EmptyState";
import { DocumentIcon, SearchIcon } from "../../components/icons";

export function DocumentsEmpty({
  shared,
  filtered,
  canUpload,
  canManage,
  onUpload,
  onShowAll,
}: {
  /** The "Shared with me" view. */
  shared: boolean;
  filtered: boolean;
  canUpload: boolean;
  canManage: boolean;
  onUpload: () => void;
  onShowAll: () => void;
}) {
  if (shared && !filtered) {
    return (
      <EmptyState icon={DocumentIcon} title="Nothing shared with you yet">
        When someone shares a file or a folder with you, the documents in it show up here, with their type, tags and text.
      </EmptyState>
    );
  }
  if (filtered) {
    return (
      <EmptyState
        icon={SearchIcon}
        title="No documents match"
        actions={
          <button type="button" className={buttonClass.secondary} onClick={onShowAll}>
            Show all documents
          </button>
        }
      >
        Remove a filter above, or search other words: the search looks in titles and notes.
      </EmptyState>
    );
  }
  return (
    <EmptyState
      icon={DocumentIcon}
      title="No documents yet"
      actions={
        <>
          {canUpload && (
            <button type="button" className={buttonClass.primary} onClick={onUpload}>
              Upload documents
            </button>
          )}
          {canManage && (
            <Link to="/documents/manage" className={buttonClass.secondary}>
              Set up types and tags
            </Link>
          )}
        </>
      }
    >
      {canUpload ? (
        <>
          Drop a PDF or a scan here; Nubes reads its text (OCR for scans and photos) and keeps the file in your Documents
          folder. Then give it a type, a correspondent, tags and categories to find it again. Files you put in{" "}
          <strong>Documents › Inbox</strong> in Files (from a sync client or a scanner&apos;s share too) become documents by
          themselves within seconds.
        </>
      ) : (
        "Adding documents takes the permission to write them: ask an administrator of your organization for it."
      )}
    </EmptyState>
  );
}
