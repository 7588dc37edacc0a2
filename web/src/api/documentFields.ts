/**
 * Custom fields of documents: the organization's field definitions (managed with documents.manage) and the hook
 * that lists them. A document's values are set through its update (`custom_fields`, the whole set).
 */
import { useQuery } from "@tanstack/react-query";

import { api, unwrap } from "./client";
import { asApiError } from "./queryClient";
import { documentsKeys } from "./queryKeys";
import type { components } from "./schema";

type Schemas = components["schemas"];

export type CustomField = Schemas["FieldRead"];
export type CustomFieldType = CustomField["data_type"];
export type CustomFieldCreate = Schemas["FieldCreate"];
export type CustomFieldUpdate = Schemas["FieldUpdate"];
export type CustomFieldValue = Schemas["CustomFieldValueRead"];
export type CustomFieldSet = Schemas["CustomFieldSet"];
export type SelectOptionIn = Schemas["SelectOptionIn"];

/** The types in the order a picker lists them, with their names in words. */
export const FIELD_TYPES: readonly { type: CustomFieldType; label: string }[] = [
  { type: "text", label: "Text" },
  { type: "number", label: "Number" },
  { type: "monetary", label: "Money" },
  { type: "date", label: "Date" },
  { type: "boolean", label: "Yes / no" },
  { type: "url", label: "Link (URL)" },
  { type: "select", label: "Choice (select)" },
  { type: "document_link", label: "Document link" },
];

export function fieldTypeLabel(type: CustomFieldType): string {
  return FIELD_TYPES.find((entry) => entry.type === type)?.label ?? type;
}

/** Under the vocabularies: what invalidates them (a rename, a delete) refreshes these too. */
export const fieldsKey = [...documentsKeys.vocabularies, "fields"] as const;

export function listFields(): Promise<CustomField[]> {
  return unwrap(api.GET("/api/documents/fields"));
}

export function createField(body: CustomFieldCreate): Promise<CustomField> {
  return unwrap(api.POST("/api/documents/fields", { body }));
}

/** Rename, change the type (only while no document carries it) or the options (the whole list). */
export function updateField(id: string, change: CustomFieldUpdate): Promise<CustomField> {
  return unwrap(api.PATCH("/api/documents/fields/{field_id}", { params: { path: { field_id: id } }, body: change }));
}

/** How many documents of the organization carry the field (`dryRun`), or delete it and their values. */
export function deleteField(id: string, dryRun: boolean): Promise<{ documents: number }> {
  return unwrap(api.DELETE("/api/documents/fields/{field_id}", { params: { path: { field_id: id }, query: { dry_run: dryRun } } }));
}

export function useCustomFields() {
  return useQuery({ queryKey: fieldsKey, queryFn: () => asApiError(listFields()) });
}
