/** How the documents page's upload queue sends a file: into your Documents folder as a new document. */
import { uploadDocument } from "../../api/documents";
import type { Uploader } from "../files/uploadQueue";

export const asDocument: Uploader = {
  send: (item, onProgress, signal) => uploadDocument(item.file, item.allowDuplicate ?? false, onProgress, signal),
  // The one conflict of this route: you already have a document with the same content (its detail names it).
  isDuplicate: (error) => error.status === 409,
};
