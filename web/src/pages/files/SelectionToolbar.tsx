/** The bar over the list while entries are selected: download, move, copy, star, delete them, or clear the selection. */
import type { FileEntry } from "../../api/files";
import { buttonClass } from "../../components/Button";

export function SelectionToolbar({
  picked,
  onDownload,
  onPick,
  onFavorite,
  onDelete,
  onClear,
}: {
  picked: FileEntry[];
  onDownload: () => void;
  onPick: (mode: "move" | "copy") => void;
  onFavorite: (favorite: boolean) => void;
  onDelete: () => void;
  onClear: () => void;
}) {
  if (picked.length === 0) return null;
  const allStarred = picked.every((entry) => entry.favorite);
  return (
    <div role="toolbar" aria-label="Selection" className="sticky top-0 z-20 mb-3 flex flex-wrap items-center gap-2 rounded-xl border border-sky-200 bg-sky-50 px-3 py-2 text-sm dark:border-sky-900 dark:bg-sky-950">
      <span className="mr-2 font-medium" data-testid="selection-count">
        {picked.length} selected
      </span>
      <button type="button" className={buttonClass.small} onClick={onDownload}>
        Download
      </button>
      <button type="button" className={buttonClass.small} onClick={() => { onPick("move"); }}>
        Move
      </button>
      <button type="button" className={buttonClass.small} onClick={() => { onPick("copy"); }}>
        Copy
      </button>
      <button type="button" className={buttonClass.small} onClick={() => { onFavorite(!allStarred); }}>
        {allStarred ? "Unstar" : "Star"}
      </button>
      <button type="button" className={buttonClass.smallDanger} onClick={onDelete}>
        Delete
      </button>
      <button type="button" className="ml-auto text-xs text-sky-700 hover:underline dark:text-sky-300" onClick={onClear}>
        Clear selection
      </button>
    </div>
  );
}
