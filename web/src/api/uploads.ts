/**
 * Resumable uploads through the server's tus 1.0 endpoint (/api/uploads), with tus-js-client.
 *
 * The file goes in 16 MiB chunks; each acknowledged chunk is durable on the server, so a dropped
 * connection or a reload resumes from the last one (tus-js-client remembers the upload URL in
 * localStorage by the file's fingerprint). Cookies carry the session; the CSRF header rides along.
 */
import { Upload, type HttpRequest } from "tus-js-client";

import { refreshSession } from "./client";
import type { FileEntry } from "./files";

export const RESUMABLE_CHUNK_BYTES = 16 * 1024 * 1024;

/** Larger files than this are worth a resumable upload (the UI may send smaller ones in one request). */
export const RESUMABLE_THRESHOLD_BYTES = 32 * 1024 * 1024;

function csrfToken(): string | null {
  for (const part of document.cookie.split(";")) {
    const [key, ...value] = part.trim().split("=");
    if (key === "nubes_csrf") return decodeURIComponent(value.join("="));
  }
  return null;
}

export interface ResumableUpload {
  /** Resolves with the new file's id once the last byte is stored. */
  done: Promise<string>;
  /** Stop sending; the server keeps what it acknowledged until the upload expires (24 h). */
  pause: () => void;
  /** Carry on from the server's offset. */
  resume: () => void;
  /** Stop and tell the server to drop the upload (its quota reservation goes back). */
  cancel: () => Promise<void>;
}

/**
 * Upload `file` into the folder `parentId` (your root when null), or as a new version of the file
 * `targetId`, resumably. `onProgress(sent, total)` reports acknowledged bytes.
 */
export function uploadResumable(
  file: File,
  parentId: string | null,
  onProgress: (sent: number, total: number) => void,
  options: { targetId?: string } = {},
): ResumableUpload {
  const metadata: Record<string, string> = { filename: file.name, filetype: file.type || "application/octet-stream" };
  if (options.targetId !== undefined) metadata.target_id = options.targetId;
  else if (parentId !== null) metadata.parent_id = parentId;
  let refreshed = false;
  let settle: { resolve: (id: string) => void; reject: (error: Error) => void } | null = null;
  const done = new Promise<string>((resolve, reject) => {
    settle = { resolve, reject };
  });
  const upload = new Upload(file, {
    endpoint: "/api/uploads",
    chunkSize: RESUMABLE_CHUNK_BYTES,
    retryDelays: [0, 1000, 3000, 5000, 10000],
    metadata,
    removeFingerprintOnSuccess: true,
    onBeforeRequest(request: HttpRequest) {
      const token = csrfToken();
      if (token !== null) request.setHeader("X-CSRF-Token", token);
    },
    onShouldRetry(error) {
      const status = error.originalResponse?.getStatus() ?? 0;
      if (status === 401 && !refreshed) {
        refreshed = true;
        void refreshSession();
        return true;
      }
      // Like tus-js-client's default: retry network errors, 5xx, 409 (offset) and 423; not other 4xx.
      return status === 0 || status >= 500 || status === 409 || status === 423;
    },
    onProgress(sent, total) {
      onProgress(sent, total);
    },
    onAfterResponse(_request, response) {
      const id = response.getHeader("Nubes-File-Id");
      if (id) settle?.resolve(id);
    },
    onError(error) {
      settle?.reject(error);
    },
  });
  void upload.findPreviousUploads().then((previous) => {
    const match = previous.find((candidate) => candidate.metadata.parent_id === metadata.parent_id && candidate.metadata.target_id === metadata.target_id);
    if (match !== undefined) upload.resumeFromPreviousUpload(match);
    upload.start();
  });
  return {
    done,
    pause: () => {
      void upload.abort(false);
    },
    resume: () => {
      upload.start();
    },
    cancel: () => upload.abort(true),
  };
}

/** The created file's listing entry after a resumable upload (for callers that want the whole record). */
export type UploadedFile = FileEntry;
