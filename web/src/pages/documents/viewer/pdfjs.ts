/**
 * pdf.js, loaded only with the viewer (this module is reached through a dynamic import): its worker is a file of
 * the build, served by Nubes itself, and the data it fetches on demand (character maps, the standard fonts, the
 * image decoders) is copied to /vendor/pdfjs/ by the build (vite.config.ts). Nothing comes from another origin.
 */
import { getDocument, GlobalWorkerOptions, TextLayer, type PDFDocumentProxy } from "pdfjs-dist";
import workerUrl from "pdfjs-dist/build/pdf.worker.min.mjs?url";

GlobalWorkerOptions.workerSrc = workerUrl;

const VENDOR = "/vendor/pdfjs";

export { TextLayer };
export type { PDFDocumentProxy };
export type { PDFPageProxy, RenderTask } from "pdfjs-dist";
export type { TextContent, TextItem } from "pdfjs-dist/types/src/display/api";

/** Open a PDF from its bytes (the worker parses it; pdf.js takes the buffer over). */
export function openPdf(data: ArrayBuffer): Promise<PDFDocumentProxy> {
  return getDocument({
    data: new Uint8Array(data),
    // The server's CSP allows no eval; saying so spares pdf.js the attempt (and a CSP report).
    isEvalSupported: false,
    enableXfa: false,
    cMapUrl: `${VENDOR}/cmaps/`,
    cMapPacked: true,
    standardFontDataUrl: `${VENDOR}/standard_fonts/`,
    wasmUrl: `${VENDOR}/wasm/`,
    iccUrl: `${VENDOR}/iccs/`,
  }).promise;
}
