/** The file manager's main column as a drop target: files dragged in from the desktop upload into the open folder (the documents page's too). */
import { useState, type ReactNode } from "react";

import { ENTRY_DRAG_TYPE } from "./fileKinds";

export function DropZone({
  enabled,
  folderName,
  label,
  onFiles,
  children,
}: {
  enabled: boolean;
  folderName: string;
  /** What the overlay says instead of "Drop to upload into <folder>". */
  label?: ReactNode;
  onFiles: (files: FileList) => void;
  children: ReactNode;
}) {
  const [dragging, setDragging] = useState(false);
  return (
    <div
      className="relative min-w-0 flex-1"
      data-testid="drop-zone"
      onDragOver={(event) => {
        event.preventDefault();
        if (enabled && event.dataTransfer.types.includes("Files")) setDragging(true);
      }}
      onDragLeave={(event) => {
        if (!event.currentTarget.contains(event.relatedTarget as Node | null)) setDragging(false);
      }}
      onDrop={(event) => {
        event.preventDefault();
        setDragging(false);
        // Entries dragged within the list are moves, handled by the rows.
        if (!enabled || event.dataTransfer.types.includes(ENTRY_DRAG_TYPE)) return;
        if (event.dataTransfer.files.length > 0) onFiles(event.dataTransfer.files);
      }}
    >
      {dragging && (
        <div className="pointer-events-none absolute inset-0 z-30 flex items-center justify-center rounded-xl border-2 border-dashed border-sky-500 bg-sky-50/80 text-lg font-medium text-sky-800 dark:bg-sky-950/80 dark:text-sky-100">
          {label ?? `Drop to upload into ${folderName}`}
        </div>
      )}
      {children}
    </div>
  );
}
