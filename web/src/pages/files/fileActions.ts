/** What can be done to files from the file manager's rows and selection: download, and the row menu's actions. */
import { contentUrl, type FileEntry } from "../../api/files";
import type { View } from "./filesViews";
import type { RowAction } from "./RowMenu";

/** Download each entry (a folder as its zip): there is no multi-file archive route, so one after another. */
export function download(targets: FileEntry[]): void {
  targets.forEach((entry, index) => {
    window.setTimeout(() => {
      const link = document.createElement("a");
      link.href = contentUrl(entry.id);
      link.download = "";
      document.body.append(link);
      link.click();
      link.remove();
    }, index * 400);
  });
}

/** What the row menu does; the page supplies each action. */
export interface RowHandlers {
  open: (entry: FileEntry) => void;
  details: (entry: FileEntry) => void;
  rename: (entry: FileEntry) => void;
  pick: (mode: "move" | "copy", entries: FileEntry[]) => void;
  share: (entry: FileEntry) => void;
  link: (entry: FileEntry) => void;
  favorite: (entries: FileEntry[], favorite: boolean) => void;
  openFolder: (id: string | null) => void;
  remove: (entries: FileEntry[]) => void;
}

/** The row menu of one entry ("Open location" only where entries of many folders are listed). */
export function rowActions(entry: FileEntry, view: View, on: RowHandlers): RowAction[] {
  return [
    { id: "open", label: entry.kind === "file" ? "Open" : "Open folder", onSelect: () => { on.open(entry); } },
    { id: "download", label: entry.kind === "file" ? "Download" : "Download as zip", onSelect: () => { download([entry]); } },
    { id: "details", label: entry.kind === "file" ? "Details and versions" : "Details", onSelect: () => { on.details(entry); } },
    { id: "rename", label: "Rename", onSelect: () => { on.rename(entry); } },
    { id: "move", label: "Move to…", onSelect: () => { on.pick("move", [entry]); } },
    { id: "copy", label: "Copy to…", onSelect: () => { on.pick("copy", [entry]); } },
    { id: "share", label: "Share…", onSelect: () => { on.share(entry); } },
    { id: "link", label: "Get link…", onSelect: () => { on.link(entry); } },
    { id: "favorite", label: entry.favorite ? "Remove from favorites" : "Add to favorites", onSelect: () => { on.favorite([entry], !entry.favorite); } },
    ...(view === "search" || view === "recent" || view === "favorites"
      ? [{ id: "location", label: "Open location", onSelect: () => { on.openFolder(entry.parent_id); } }]
      : []),
    { id: "delete", label: "Delete", danger: true, onSelect: () => { on.remove([entry]); } },
  ];
}
