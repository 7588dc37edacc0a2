/** The files page's views (my files, recent, favorites, trash, search), layouts and the keys its choices are remembered under. */
export type View = "files" | "recent" | "favorites" | "trash" | "search";

export type Layout = "list" | "grid" | "gallery";

export const LAYOUT_KEY = "nubes.files.layout";

export const SORT_KEY = "nubes.files.sort";

export const views: { view: View; label: string }[] = [
  { view: "files", label: "My files" },
  { view: "recent", label: "Recent" },
  { view: "favorites", label: "Favorites" },
  { view: "trash", label: "Trash" },
];

export function viewOf(value: string | null): View {
  return value === "recent" || value === "favorites" || value === "trash" || value === "search" ? value : "files";
}
