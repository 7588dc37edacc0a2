/** Media in the file manager: thumbnails, the gallery of a folder's images, and a viewer (lightbox, audio, video). */
import { useEffect, useRef, useState } from "react";

import { contentUrl, thumbnailUrl, type FileEntry } from "../../api/files";
import { CloseIcon, DocumentIcon, DownloadIcon } from "../../components/icons";
import { EmptyState } from "../../components/EmptyState";
import { hasThumbnail, mediaKind } from "./fileKinds";

/** How often a thumbnail that is still being made is asked for again, and for how long. */
const RETRY_MS = 2000;
const RETRIES = 15;

/** An image's thumbnail; while the server is still making it (404), asks again a few times, then shows an icon. */
export function Thumbnail({ entry, className = "" }: { entry: FileEntry; className?: string }) {
  const [attempt, setAttempt] = useState(0);
  const [failed, setFailed] = useState(false);
  const timer = useRef<number | undefined>(undefined);
  useEffect(() => () => { window.clearTimeout(timer.current); }, []);
  if (!hasThumbnail(entry) || failed) return <DocumentIcon className={`size-10 text-slate-400 ${className}`} />;
  return (
    <img
      key={attempt}
      src={`${thumbnailUrl(entry)}${attempt > 0 ? `&try=${attempt}` : ""}`}
      alt=""
      data-testid="thumbnail"
      loading="lazy"
      className={`object-contain ${className}`}
      onError={() => {
        if (attempt >= RETRIES) {
          setFailed(true);
          return;
        }
        timer.current = window.setTimeout(() => {
          setAttempt(attempt + 1);
        }, RETRY_MS);
      }}
    />
  );
}

/** A full-window viewer: images with previous/next (full content), audio and video played from the content route (Range). */
export function MediaViewer({ entries, index, onIndex, onClose }: { entries: FileEntry[]; index: number; onIndex: (index: number) => void; onClose: () => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  const entry = entries[index];
  useEffect(() => {
    const dialog = ref.current;
    if (dialog !== null && !dialog.open) dialog.showModal();
  }, []);
  if (entry === undefined) return null;
  const kind = mediaKind(entry);
  const step = (delta: number): void => {
    if (entries.length > 1) onIndex((index + delta + entries.length) % entries.length);
  };
  return (
    <dialog
      ref={ref}
      aria-label={`Viewing ${entry.name}`}
      data-testid="media-viewer"
      className="m-0 h-dvh max-h-none w-dvw max-w-none bg-slate-950 p-0 text-white backdrop:bg-slate-950/80"
      onCancel={(event) => {
        event.preventDefault();
        onClose();
      }}
      onKeyDown={(event) => {
        if (event.key === "ArrowRight") step(1);
        if (event.key === "ArrowLeft") step(-1);
      }}
    >
      <div className="flex h-full flex-col">
        <div className="flex items-center gap-3 px-4 py-3">
          <span className="truncate font-medium" data-testid="media-name">
            {entry.name}
          </span>
          <span className="text-sm text-slate-400">
            {index + 1} / {entries.length}
          </span>
          <a className="ml-auto rounded-lg p-2 hover:bg-white/10" href={contentUrl(entry.id)} aria-label={`Download ${entry.name}`}>
            <DownloadIcon className="size-5" />
          </a>
          <button type="button" className="rounded-lg p-2 hover:bg-white/10" onClick={onClose} aria-label="Close viewer">
            <CloseIcon className="size-5" />
          </button>
        </div>
        <div className="relative flex min-h-0 flex-1 items-center justify-center px-14 pb-6">
          {kind === "image" && <img key={entry.id} src={contentUrl(entry.id)} alt={entry.name} className="max-h-full max-w-full object-contain" />}
          {kind === "video" && (
            <video key={entry.id} src={contentUrl(entry.id)} controls autoPlay className="max-h-full max-w-full" data-testid="video-player" />
          )}
          {kind === "audio" && <audio key={entry.id} src={contentUrl(entry.id)} controls autoPlay className="w-full max-w-xl" data-testid="audio-player" />}
          {entries.length > 1 && (
            <>
              <button type="button" className="absolute top-1/2 left-2 -translate-y-1/2 rounded-full bg-white/10 px-3 py-2 text-2xl hover:bg-white/20" onClick={() => { step(-1); }} aria-label="Previous">
                ‹
              </button>
              <button type="button" className="absolute top-1/2 right-2 -translate-y-1/2 rounded-full bg-white/10 px-3 py-2 text-2xl hover:bg-white/20" onClick={() => { step(1); }} aria-label="Next">
                ›
              </button>
            </>
          )}
        </div>
      </div>
    </dialog>
  );
}

/** The images of a folder as a grid of thumbnails; a click opens them full size with previous/next. */
export function Gallery({ entries }: { entries: FileEntry[] }) {
  const images = entries.filter((entry) => mediaKind(entry) === "image");
  const [open, setOpen] = useState<number | null>(null);
  if (images.length === 0) {
    return (
      <EmptyState icon={DocumentIcon} title="No images in this folder">
        Upload PNG, JPEG, GIF or WebP pictures here (or drop them on the page) and they show up in the gallery.
      </EmptyState>
    );
  }
  return (
    <>
      <ul aria-label="Gallery" className="grid grid-cols-2 gap-3 sm:grid-cols-3 md:grid-cols-4 xl:grid-cols-6">
        {images.map((image, index) => (
          <li key={image.id}>
            <button
              type="button"
              data-testid="gallery-item"
              data-name={image.name}
              className="group block w-full overflow-hidden rounded-xl border border-slate-200 bg-white text-left hover:border-sky-400 dark:border-slate-800 dark:bg-slate-900"
              onClick={() => {
                setOpen(index);
              }}
            >
              <span className="flex aspect-square items-center justify-center bg-slate-100 dark:bg-slate-950">
                <Thumbnail entry={image} className="max-h-full max-w-full" />
              </span>
              <span className="block truncate px-2 py-1.5 text-xs text-slate-700 dark:text-slate-300">{image.name}</span>
            </button>
          </li>
        ))}
      </ul>
      {open !== null && (
        <MediaViewer
          entries={images}
          index={open}
          onIndex={setOpen}
          onClose={() => {
            setOpen(null);
          }}
        />
      )}
    </>
  );
}
