/** The file manager's dialogs, one open at a time: new folder, rename, move/copy, delete, share, link, and the media viewer. */
import { createFolder, renameEntry, type FileEntry } from "../../api/files";
import { ConfirmDialog } from "../../components/Dialog";
import { FolderPickerDialog, NameDialog } from "./dialogs";
import { LinkDialog } from "./LinkDialog";
import { MediaViewer } from "./media";
import { ShareDialog } from "./ShareDialog";

export type FileDialog =
  | { kind: "create" }
  | { kind: "rename"; entry: FileEntry }
  | { kind: "pick"; mode: "move" | "copy"; entries: FileEntry[] }
  | { kind: "delete"; entries: FileEntry[] }
  | { kind: "share"; entry: FileEntry }
  | { kind: "link"; entry: FileEntry }
  | { kind: "view"; entries: FileEntry[]; index: number };

export function FileDialogs({
  dialog,
  folderId,
  onOpen,
  onClose,
  onChanged,
  onMoved,
  onTrash,
}: {
  dialog: FileDialog | null;
  /** Where a new folder goes. */
  folderId: string | null;
  /** Show another dialog (the media viewer's next item). */
  onOpen: (dialog: FileDialog) => void;
  onClose: () => void;
  /** After a change: refresh what the page shows. */
  onChanged: () => void;
  /** After a move or copy (the selection is cleared). */
  onMoved: () => void;
  /** Deleting was confirmed: move these to the trash. */
  onTrash: (entries: FileEntry[]) => void;
}) {
  const deleting = dialog?.kind === "delete" ? dialog.entries : null;
  const one = deleting?.length === 1;
  return (
    <>
      {dialog?.kind === "share" && <ShareDialog entry={dialog.entry} onClose={onClose} />}
      {dialog?.kind === "link" && <LinkDialog entry={dialog.entry} onClose={onClose} />}
      {dialog?.kind === "create" && (
        <NameDialog
          title="New folder"
          submitLabel="Create folder"
          initial=""
          onClose={onClose}
          onSubmit={async (name) => {
            await createFolder(folderId, name);
            onClose();
            onChanged();
          }}
        />
      )}
      {dialog?.kind === "rename" && (
        <NameDialog
          title={`Rename ${dialog.entry.name}`}
          submitLabel="Rename"
          initial={dialog.entry.name}
          onClose={onClose}
          onSubmit={async (name) => {
            await renameEntry(dialog.entry.id, name);
            onClose();
            onChanged();
          }}
        />
      )}
      {dialog?.kind === "pick" && <FolderPickerDialog mode={dialog.mode} entries={dialog.entries} onChanged={onMoved} onClose={onClose} />}
      <ConfirmDialog
        open={deleting !== null}
        title={one ? `Delete ${deleting[0]?.name ?? ""}?` : `Delete ${deleting?.length ?? 0} items?`}
        confirmLabel="Move to trash"
        onCancel={onClose}
        onConfirm={() => {
          onClose();
          onTrash(deleting ?? []);
        }}
      >
        {one ? "It goes" : "They go"} to the trash, where you can restore {one ? "it" : "them"}; the space is freed when you delete for good.
      </ConfirmDialog>
      {dialog?.kind === "view" && (
        <MediaViewer
          entries={dialog.entries}
          index={dialog.index}
          onIndex={(index) => {
            onOpen({ ...dialog, index });
          }}
          onClose={onClose}
        />
      )}
    </>
  );
}
