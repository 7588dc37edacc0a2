/** Helpers over the vocabularies: matching rules in words, the category tree in display order, a category's path, what lies below one, readable tag colours. */
import type { Category, DocumentSort, Extraction, Matching, MatchingRule } from "../../api/documents";

/** How a matching rule reads in its select. */
export const MATCHING_LABELS: Record<Matching, string> = {
  none: "none (never suggest it)",
  any: "has any word",
  all: "has all words",
  exact: "has the exact phrase",
  regex: "matches a regular expression",
  fuzzy: "has a fuzzy phrase",
};

/** No rule: never suggested. */
export const NO_RULE: MatchingRule = { matching: "none", match: "", case_sensitive: false };

/** The rule of a type, correspondent or tag (to edit it). */
export function ruleOf(rule: MatchingRule): MatchingRule {
  return { matching: rule.matching, match: rule.match, case_sensitive: rule.case_sensitive };
}

/** A rule in a few words for a list ("any: invoice bill", "regex, case-sensitive: …"); null when there is none. */
export function ruleLabel(rule: MatchingRule): string | null {
  if (rule.matching === "none") return null;
  return `${rule.matching}${rule.case_sensitive ? ", case-sensitive" : ""}: ${rule.match}`;
}

/** "Finance / Taxes": a category named by its path from the top level. */
export function categoryLabel(category: Category): string {
  return (category.path?.length ? category.path : [category.name]).join(" / ");
}

/** How deep a category sits (0: the top level). */
export function depthOf(category: Category): number {
  return Math.max(0, (category.path?.length ?? 1) - 1);
}

/** The category and every one below it (what a move or a merge may not target). */
export function subtreeOf(categories: readonly Category[], id: string): Set<string> {
  const below = new Set([id]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const category of categories) {
      if (category.parent_id !== null && below.has(category.parent_id) && !below.has(category.id)) {
        below.add(category.id);
        grew = true;
      }
    }
  }
  return below;
}

/** Black or white, whichever reads better on `color` (`#rrggbb`), by its relative luminance (WCAG). */
export function textOn(color: string): "#0f172a" | "#ffffff" {
  const match = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(color);
  if (match === null) return "#0f172a";
  const [r, g, b] = match.slice(1).map((hex) => {
    const channel = parseInt(hex, 16) / 255;
    return channel <= 0.03928 ? channel / 12.92 : ((channel + 0.055) / 1.055) ** 2.4;
  });
  const luminance = 0.2126 * (r ?? 0) + 0.7152 * (g ?? 0) + 0.0722 * (b ?? 0);
  // Contrast with white (1.05 / (L + 0.05)) against contrast with slate-900 ((L + 0.05) / 0.0622).
  return 1.05 / (luminance + 0.05) >= (luminance + 0.05) / 0.0622 ? "#ffffff" : "#0f172a";
}

/** A few distinct colours to start a new tag with. */
export const TAG_COLORS = ["#0ea5e9", "#22c55e", "#f59e0b", "#ef4444", "#8b5cf6", "#ec4899", "#14b8a6", "#64748b"] as const;

const METHODS: Record<string, string> = {
  "text-layer": "PDF text",
  ocr: "OCR",
  plain: "plain text",
  email: "e-mail",
  office: "office document",
};

/** How the text was read, in words ("OCR", "PDF text"). */
export function methodLabel(extraction: Extraction): string {
  return METHODS[extraction.method] ?? extraction.method;
}

/** The sortable columns and the server's sort keys. */
export type SortColumn = "title" | "created" | "added" | "modified";

export function sortColumn(sort: DocumentSort): { column: SortColumn; descending: boolean } {
  return { column: sort.replace(/^-/, "") as SortColumn, descending: sort.startsWith("-") };
}

/** "1 document", "3 documents". */
export function documentCount(count: number): string {
  return `${count} ${count === 1 ? "document" : "documents"}`;
}
