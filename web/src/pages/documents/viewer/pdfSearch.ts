/**
 * Search in a PDF's text layer: each page's text as pdf.js lays it out (one string per text item, the same items the
 * text layer draws as spans), every match of the words asked for, and which parts of which items each match covers.
 */

/** A page's text: its items' strings, where each item starts in the page's joined text, and that text. */
export interface PageText {
  items: string[];
  starts: number[];
  text: string;
}

/** One match: its page (1-based) and where it is in that page's joined text. */
export interface Match {
  page: number;
  start: number;
  end: number;
}

/** A part of one text item to mark: item index, offsets in its string, and whether it belongs to the current match. */
export interface ItemRange {
  item: number;
  from: number;
  to: number;
  current: boolean;
}

/** The joined text of a page from its text items (a line's end counts as a space, so words across lines are found). */
export function pageText(items: readonly { str?: string; hasEOL?: boolean }[]): PageText {
  const strings: string[] = [];
  const starts: number[] = [];
  let text = "";
  for (const item of items) {
    if (item.str === undefined) continue; // marked-content markers: no span in the text layer either
    starts.push(text.length);
    strings.push(item.str);
    text += item.str;
    if (item.hasEOL === true) text += " ";
  }
  return { items: strings, starts, text };
}

/** A case-insensitive pattern for the words asked for (any run of spaces matches any run of white space). */
export function pattern(query: string): RegExp | null {
  const words = query.trim().split(/\s+/u).filter((word) => word !== "");
  if (words.length === 0) return null;
  return new RegExp(words.map((word) => word.replace(/[.*+?^${}()|[\]\\]/gu, "\\$&")).join("\\s+"), "giu");
}

/** Every match in the pages, in reading order. */
export function findMatches(pages: readonly (PageText | undefined)[], query: string): Match[] {
  const wanted = pattern(query);
  if (wanted === null) return [];
  const found: Match[] = [];
  pages.forEach((page, index) => {
    if (page === undefined) return;
    for (const hit of page.text.matchAll(wanted)) {
      if (hit[0].length > 0) found.push({ page: index + 1, start: hit.index, end: hit.index + hit[0].length });
    }
  });
  return found;
}

/** The parts of a page's text items that its matches cover. */
export function itemRanges(page: PageText, matches: readonly Match[], current: Match | null): ItemRange[] {
  const ranges: ItemRange[] = [];
  for (const match of matches) {
    page.items.forEach((item, index) => {
      const start = page.starts[index] ?? 0;
      const from = Math.max(match.start, start);
      const to = Math.min(match.end, start + item.length);
      if (from < to) ranges.push({ item: index, from: from - start, to: to - start, current: match === current });
    });
  }
  return ranges;
}
