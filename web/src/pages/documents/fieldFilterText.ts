/** The words of the custom-field filter's chip, and which field types filter by a range. */
import type { CustomField } from "../../api/documentFields";
import type { FieldFilter } from "./useDocumentsLocation";

/** The field types filtered by a range (at least / at most) rather than by a value. */
export const RANGED: ReadonlySet<CustomField["data_type"]> = new Set<CustomField["data_type"]>(["number", "date", "monetary"]);

/** What the chip of a filter says after "<field name>: ". */
function describe(field: CustomField, filter: FieldFilter): string {
  if (filter.value !== null) {
    if (field.data_type === "select") return field.options.find((option) => option.id === filter.value || option.label.toLowerCase() === filter.value?.toLowerCase())?.label ?? filter.value;
    if (field.data_type === "boolean") return filter.value === "true" ? "yes" : "no";
    return field.data_type === "text" || field.data_type === "url" ? `“${filter.value}”` : filter.value;
  }
  if (filter.min !== null && filter.max !== null) return `${filter.min} – ${filter.max}`;
  if (filter.min !== null) return `≥ ${filter.min}`;
  if (filter.max !== null) return `≤ ${filter.max}`;
  return "any value";
}

/** The chip's words: the field and its value, "Field removed" for a field deleted since, "…" while loading. */
export function fieldFilterText(filter: FieldFilter, fields: readonly CustomField[] | undefined): string {
  if (fields === undefined) return "Field: …";
  const field = fields.find((item) => item.id === filter.id);
  return field === undefined ? "Field removed" : `${field.name}: ${describe(field, filter)}`;
}
