/** What the files page shows when a view has nothing in it: one message per view, an Upload button in an empty folder. */
import { buttonClass } from "../../components/Button";
import { EmptyState } from "../../components/EmptyState";
import { DocumentIcon, FolderIcon } from "../../components/icons";
import type { View } from "./filesViews";

export function FilesEmpty({ view, query, onUpload }: { view: View; query: string; onUpload: () => void }) {
  if (view === "recent") return <EmptyState icon={DocumentIcon} title="Nothing changed lately">Files you upload or change show up here, newest first.</EmptyState>;
  if (view === "favorites")
    return (
      <EmptyState icon={DocumentIcon} title="No favorites yet">
        Star a file or folder (☆ next to its name) to find it here quickly.
      </EmptyState>
    );
  if (view === "search")
    return (
      <EmptyState icon={DocumentIcon} title={`Nothing named like “${query}”`}>
        Search matches the beginnings of words in names: “rep” finds “Annual report.pdf”. Deleted files are in the trash.
      </EmptyState>
    );
  return (
    <EmptyState
      icon={FolderIcon}
      title="This folder is empty"
      actions={
        <button type="button" className={buttonClass.primary} onClick={onUpload}>
          Upload files
        </button>
      }
    >
      Drop files anywhere on this page, or use Upload. New folder makes a place to sort them into.
    </EmptyState>
  );
}
