/**
 * The upload queue: files wait, go up a few at a time with progress and speed, can be cancelled and retried.
 * Where a file goes is the `Uploader`'s business: the file manager's puts it in a folder, the documents page's
 * makes it a document (and offers "Upload anyway" for content already there).
 */
import { useEffect, useState, useSyncExternalStore } from "react";

import { getEntry, uploadFile, type FileEntry } from "../../api/files";
import { toApiError, type ApiError } from "../../api/problem";
import { RESUMABLE_THRESHOLD_BYTES, uploadResumable } from "../../api/uploads";

/** How many files go up at once; the rest wait in the queue. */
const PARALLEL = 3;

/**
 * Send one file into a folder: the single place where the upload path is chosen. Large files go
 * resumably (tus, 16 MiB chunks, each durable on the server: a dropped connection or a reload carries
 * on from the last one); small ones in one request.
 */
export async function startUpload(
  file: File,
  parentId: string | null,
  onProgress: (sent: number) => void,
  signal: AbortSignal,
): Promise<FileEntry> {
  if (file.size <= RESUMABLE_THRESHOLD_BYTES) return uploadFile(file, parentId, onProgress, signal);
  const upload = uploadResumable(file, parentId, (sent) => {
    onProgress(sent);
  });
  const cancel = (): void => {
    void upload.cancel();
  };
  signal.addEventListener("abort", cancel, { once: true });
  try {
    const id = await upload.done;
    return await getEntry(id, signal);
  } catch (caught) {
    if (signal.aborted) throw new DOMException("The upload was cancelled.", "AbortError");
    throw caught;
  } finally {
    signal.removeEventListener("abort", cancel);
  }
}

export interface UploadItem {
  id: number;
  file: File;
  parentId: string | null;
  sent: number;
  state: "queued" | "sending" | "done" | "failed" | "cancelled";
  /** Bytes per second over the last progress events. */
  speed: number;
  error?: string;
  /** What the user can do about the error. */
  hint?: string;
  /** It failed because the same content is already there ("Upload anyway" sends it again with `allowDuplicate`). */
  duplicate?: boolean;
  /** Keep it even when the same content is already there. */
  allowDuplicate?: boolean;
}

/** How the queue sends one file, and what a failure means. */
export interface Uploader {
  send: (item: UploadItem, onProgress: (sent: number) => void, signal: AbortSignal) => Promise<unknown>;
  /** Whether a failure says the content is already there (the queue then offers "Upload anyway"). */
  isDuplicate?: (error: ApiError) => boolean;
}

/** The file manager's: into the item's folder, in one request or resumably. */
const intoFolder: Uploader = {
  send: (item, onProgress, signal) => startUpload(item.file, item.parentId, onProgress, signal),
};

function hintFor(error: ApiError): string {
  const type = error.problem?.type ?? "";
  if (type.endsWith(":quota-exceeded")) return "Free some space (empty the trash or delete old versions), then retry.";
  if (type.endsWith(":name-taken")) return "Something with this name is already there: rename one of them, then retry.";
  if (error.kind === "unreachable") return "The connection dropped: check it, then retry.";
  if (error.status === 401) return "Your session ended: sign in again, then retry.";
  return "Retry; if it fails again, the message says why.";
}

/** The queue's state outside React, so uploads keep going whatever re-renders. */
class UploadStore {
  private items: UploadItem[] = [];
  private nextId = 1;
  private readonly controllers = new Map<number, AbortController>();
  private readonly listeners = new Set<() => void>();
  private onUploaded: () => void = () => undefined;

  private readonly uploader: Uploader;

  constructor(uploader: Uploader) {
    this.uploader = uploader;
  }

  /** Who to tell when a file has arrived (the page reloads its listing). */
  notify(onUploaded: () => void): void {
    this.onUploaded = onUploaded;
  }

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  };

  readonly snapshot = (): UploadItem[] => this.items;

  private set(items: UploadItem[]): void {
    this.items = items;
    for (const listener of this.listeners) listener();
  }

  private patch(id: number, change: Partial<UploadItem>): void {
    this.set(this.items.map((item) => (item.id === id ? { ...item, ...change } : item)));
  }

  add(files: Iterable<File>, parentId: string | null): void {
    const added = Array.from(files).map((file): UploadItem => ({ id: this.nextId++, file, parentId, sent: 0, state: "queued", speed: 0 }));
    this.set([...this.items, ...added]);
    this.pump();
  }

  cancel(id: number): void {
    const controller = this.controllers.get(id);
    if (controller !== undefined) controller.abort();
    else this.patch(id, { state: "cancelled" });
  }

  retry(id: number): void {
    this.patch(id, { state: "queued", sent: 0, speed: 0, error: undefined, hint: undefined, duplicate: undefined });
    this.pump();
  }

  /** Send a duplicate again, to be kept as a second copy. */
  uploadAnyway(id: number): void {
    this.patch(id, { allowDuplicate: true });
    this.retry(id);
  }

  clearFinished(): void {
    this.set(this.items.filter((item) => item.state === "queued" || item.state === "sending"));
  }

  private pump(): void {
    let running = this.items.filter((item) => item.state === "sending").length;
    for (const item of this.items) {
      if (running >= PARALLEL) break;
      if (item.state !== "queued") continue;
      running += 1;
      this.send(item);
    }
  }

  private send(item: UploadItem): void {
    const controller = new AbortController();
    this.controllers.set(item.id, controller);
    let lastTime = performance.now();
    let lastSent = 0;
    this.patch(item.id, { state: "sending", sent: 0, speed: 0 });
    const progress = (sent: number): void => {
      const now = performance.now();
      const elapsed = (now - lastTime) / 1000;
      if (elapsed < 0.25) {
        this.patch(item.id, { sent });
        return;
      }
      this.patch(item.id, { sent, speed: (sent - lastSent) / elapsed });
      lastTime = now;
      lastSent = sent;
    };
    this.uploader.send(item, progress, controller.signal).then(
      () => {
        this.controllers.delete(item.id);
        this.patch(item.id, { state: "done", sent: item.file.size });
        this.onUploaded();
        this.pump();
      },
      (caught: unknown) => {
        this.controllers.delete(item.id);
        if (caught instanceof DOMException && caught.name === "AbortError") {
          this.patch(item.id, { state: "cancelled" });
        } else {
          const error = toApiError(caught);
          if (this.uploader.isDuplicate?.(error)) {
            this.patch(item.id, { state: "failed", error: error.message, hint: "Upload anyway keeps a second copy.", duplicate: true });
          } else {
            this.patch(item.id, { state: "failed", error: error.message, hint: hintFor(error) });
          }
        }
        this.pump();
      },
    );
  }
}

export function useUploads(onUploaded: () => void, uploader: Uploader = intoFolder) {
  const [store] = useState(() => new UploadStore(uploader));
  useEffect(() => {
    store.notify(onUploaded);
  }, [store, onUploaded]);
  const items = useSyncExternalStore(store.subscribe, store.snapshot);
  return {
    items,
    add: (files: Iterable<File>, parentId: string | null) => {
      store.add(files, parentId);
    },
    cancel: (id: number) => {
      store.cancel(id);
    },
    retry: (id: number) => {
      store.retry(id);
    },
    uploadAnyway: (id: number) => {
      store.uploadAnyway(id);
    },
    clearFinished: () => {
      store.clearFinished();
    },
  };
}
