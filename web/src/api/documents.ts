/**
 * Typed calls of the documents domain: documents (list, read, change, remove, text, history, re-analyse, upload),
 * their suggestions, the vocabularies (with their matching rules) and the organization's document settings.
 */
import { api, unwrap, unwrapEmpty, unwrapResponse } from "./client";
import { sendForm } from "./files";
import type { components, paths } from "./schema";

type Schemas = components["schemas"];

export type Document = Schemas["DocumentRead"];
export type DocumentPage = Schemas["DocumentPage"];
export type DocumentUpdate = Schemas["DocumentUpdate"];
export type DocumentChange = Schemas["DocumentChangeRead"];
export type DocumentText = Schemas["DocumentText"];
export type Extraction = Schemas["Extraction"];
/** A document type or a correspondent, with how many of your documents use it. */
export type Term = Schemas["TermRead"];
export type Tag = Schemas["TagRead"];
export type Category = Schemas["CategoryRead"];
export type CategoryRemoval = Schemas["CategoryRemoval"];
export type Suggestion = Schemas["SuggestionRead"];
export type DocumentSettings = Schemas["DocumentSettingsRead"];
export type DocumentSettingsUpdate = Schemas["DocumentSettingsUpdate"];
/** How a type, correspondent or tag is suggested for a document whose text matches it. */
export type Matching = Schemas["TermRead"]["matching"];
/** A vocabulary's matching rule, as its create and update calls take it. */
export interface MatchingRule {
  matching: Matching;
  match: string;
  case_sensitive: boolean;
}
export type DocumentSort = NonNullable<NonNullable<paths["/api/documents"]["get"]["parameters"]["query"]>["sort"]>;

/** The two plain vocabularies, which share their routes' shape. */
export type TermKind = "types" | "correspondents";

/** What the list asks for: whose (absent: yours), the filters (absent: any), the order and the page. */
export interface DocumentQuery {
  scope?: "mine" | "shared" | "all";
  type_id?: string;
  correspondent_id?: string;
  tag_id?: string;
  category_id?: string;
  q?: string;
  custom_field_id?: string;
  custom_field_value?: string;
  custom_field_min?: string;
  custom_field_max?: string;
  sort: DocumentSort;
  limit: number;
  offset: number;
}

/** The header of a deleted type's, correspondent's or tag's answer: how many of the organization's documents lost it. */
const AFFECTED = "X-Documents-Affected";

function affected(response: Response): number {
  const count = Number(response.headers.get(AFFECTED) ?? "");
  return Number.isFinite(count) ? count : 0;
}

// --- documents ----------------------------------------------------------------------------------

export function listDocuments(query: DocumentQuery): Promise<DocumentPage> {
  return unwrap(api.GET("/api/documents", { params: { query } }));
}

export function getDocument(id: string): Promise<Document> {
  return unwrap(api.GET("/api/documents/{document_id}", { params: { path: { document_id: id } } }));
}

export function updateDocument(id: string, change: DocumentUpdate): Promise<Document> {
  return unwrap(api.PATCH("/api/documents/{document_id}", { params: { path: { document_id: id } }, body: change }));
}

/** Remove the document's metadata; its file stays in the owner's files. */
export function removeDocument(id: string): Promise<void> {
  return unwrapEmpty(api.DELETE("/api/documents/{document_id}", { params: { path: { document_id: id } } }));
}

export function documentHistory(id: string): Promise<DocumentChange[]> {
  return unwrap(api.GET("/api/documents/{document_id}/history", { params: { path: { document_id: id } } }));
}

export function documentText(id: string): Promise<DocumentText> {
  return unwrap(api.GET("/api/documents/{document_id}/text", { params: { path: { document_id: id } } }));
}

/** Read its text again (queued: the answer's `extraction` is pending). */
export function reanalyseDocument(id: string): Promise<Document> {
  return unwrap(api.POST("/api/documents/{document_id}/reanalyse", { params: { path: { document_id: id } } }));
}

/**
 * Upload a file into the Documents folder as a new document, reporting bytes sent. The server refuses content
 * you already have as a document (409, its detail names the one) unless `allowDuplicate`.
 */
export function uploadDocument(file: File, allowDuplicate: boolean, onProgress: (sent: number) => void, signal?: AbortSignal): Promise<Document> {
  const form = new FormData();
  form.append("file", file, file.name);
  const query = allowDuplicate ? "?allow_duplicate=true" : "";
  return sendForm<Document>("POST", `/api/documents/upload${query}`, form, onProgress, signal);
}

// --- suggestions --------------------------------------------------------------------------------

/** What Nubes proposes for a document (open, accepted and rejected), once its text is read. */
export function listSuggestions(id: string): Promise<Suggestion[]> {
  return unwrap(api.GET("/api/documents/{document_id}/suggestions", { params: { path: { document_id: id } } }));
}

/** Accept or reject one suggestion; resolves to the document as it is now. */
export function decideSuggestion(id: string, suggestionId: string, decision: "accept" | "reject"): Promise<Document> {
  const params = { params: { path: { document_id: id, suggestion_id: suggestionId } } };
  return unwrap(
    decision === "accept"
      ? api.POST("/api/documents/{document_id}/suggestions/{suggestion_id}/accept", params)
      : api.POST("/api/documents/{document_id}/suggestions/{suggestion_id}/reject", params),
  );
}

// --- types and correspondents ------------------------------------------------------------------

export function listTerms(kind: TermKind): Promise<Term[]> {
  return unwrap(kind === "types" ? api.GET("/api/documents/types") : api.GET("/api/documents/correspondents"));
}

export function createTerm(kind: TermKind, name: string, rule: MatchingRule): Promise<Term> {
  const body = { name, ...rule };
  return unwrap(kind === "types" ? api.POST("/api/documents/types", { body }) : api.POST("/api/documents/correspondents", { body }));
}

/** Rename a type or correspondent, or change its matching rule. */
export function updateTerm(kind: TermKind, id: string, change: { name?: string } & Partial<MatchingRule>): Promise<Term> {
  return unwrap(
    kind === "types"
      ? api.PATCH("/api/documents/types/{type_id}", { params: { path: { type_id: id } }, body: change })
      : api.PATCH("/api/documents/correspondents/{correspondent_id}", { params: { path: { correspondent_id: id } }, body: change }),
  );
}

/** Delete a type or correspondent (its documents stay, without it); resolves to how many documents lost it. */
export async function deleteTerm(kind: TermKind, id: string): Promise<number> {
  const response = await unwrapResponse(
    kind === "types"
      ? api.DELETE("/api/documents/types/{type_id}", { params: { path: { type_id: id } } })
      : api.DELETE("/api/documents/correspondents/{correspondent_id}", { params: { path: { correspondent_id: id } } }),
  );
  return affected(response);
}

// --- tags ---------------------------------------------------------------------------------------

export function listTags(): Promise<Tag[]> {
  return unwrap(api.GET("/api/documents/tags"));
}

export function createTag(name: string, color: string, rule: MatchingRule): Promise<Tag> {
  return unwrap(api.POST("/api/documents/tags", { body: { name, color, ...rule } }));
}

export function updateTag(id: string, change: { name?: string; color?: string } & Partial<MatchingRule>): Promise<Tag> {
  return unwrap(api.PATCH("/api/documents/tags/{tag_id}", { params: { path: { tag_id: id } }, body: change }));
}

/** Delete a tag (its documents stay); resolves to how many documents lost it. */
export async function deleteTag(id: string): Promise<number> {
  return affected(await unwrapResponse(api.DELETE("/api/documents/tags/{tag_id}", { params: { path: { tag_id: id } } })));
}

// --- categories ---------------------------------------------------------------------------------

export function listCategories(): Promise<Category[]> {
  return unwrap(api.GET("/api/documents/categories"));
}

export function createCategory(name: string, parentId: string | null): Promise<Category> {
  return unwrap(api.POST("/api/documents/categories", { body: { name, parent_id: parentId } }));
}

export function renameCategory(id: string, name: string): Promise<Category> {
  return unwrap(api.PATCH("/api/documents/categories/{document_category_id}", { params: { path: { document_category_id: id } }, body: { name } }));
}

/** Move a category under another (null: to the top level). */
export function moveCategory(id: string, parentId: string | null): Promise<Category> {
  return unwrap(api.PATCH("/api/documents/categories/{document_category_id}", { params: { path: { document_category_id: id } }, body: { parent_id: parentId } }));
}

/** Merge a category into another: its documents and subcategories move there, and it goes. */
export function mergeCategory(id: string, intoId: string): Promise<Category> {
  return unwrap(api.POST("/api/documents/categories/{document_category_id}/merge", { params: { path: { document_category_id: id } }, body: { into_id: intoId } }));
}

/** What deleting a category would do (`dryRun`), or do it: the categories that go and the documents that lose one. */
export function deleteCategory(id: string, dryRun: boolean): Promise<CategoryRemoval> {
  return unwrap(api.DELETE("/api/documents/categories/{document_category_id}", { params: { path: { document_category_id: id }, query: { dry_run: dryRun } } }));
}

// --- settings -----------------------------------------------------------------------------------

/** The organization's limits on documents (size, file types) and the languages scans are read in. */
export function getDocumentSettings(): Promise<DocumentSettings> {
  return unwrap(api.GET("/api/documents/settings"));
}

export function updateDocumentSettings(change: DocumentSettingsUpdate): Promise<DocumentSettings> {
  return unwrap(api.PUT("/api/documents/settings", { body: change }));
}
