// Answer text -> DOM, from a small safe subset: paragraphs, lists, tables, links, bold and source markers.
// Everything is built with DOM APIs; text from the server only ever becomes text nodes, so markup
// in an answer (or in a scraped page it quotes) is shown, never run.

import type { Source } from "./protocol";

const SAFE_PROTOCOLS = new Set(["http:", "https:", "mailto:", "tel:"]);

/** An absolute URL for an http(s)/mailto/tel link, or null for anything else (javascript:, data:, ...). */
export function safeUrl(raw: string | null | undefined, base?: string): string | null {
  if (!raw) return null;
  let url: URL;
  try {
    // The URL parser drops tabs and newlines inside a scheme ("java\nscript:") as browsers do.
    url = new URL(raw, base ?? document.baseURI);
  } catch {
    return null;
  }
  return SAFE_PROTOCOLS.has(url.protocol) ? url.href : null;
}

/** A link that cannot reach the page that opened it; external sites open in a new tab. */
export function makeLink(href: string, label: string, opensNewTab = isExternal(href)): HTMLAnchorElement {
  const a = document.createElement("a");
  a.href = href;
  a.rel = "noopener noreferrer";
  a.textContent = label;
  if (opensNewTab) {
    a.target = "_blank";
    // Said to everyone: an arrow to the eye, the words to a screen reader.
    const arrow = document.createElement("span");
    arrow.className = "va-new-tab";
    arrow.setAttribute("aria-hidden", "true");
    arrow.textContent = "\u2197";
    const hint = document.createElement("span");
    hint.className = "va-sr-only";
    hint.textContent = " (opent in een nieuw tabblad)";
    a.append(arrow, hint);
  }
  return a;
}

function isExternal(href: string): boolean {
  try {
    const url = new URL(href);
    return (url.protocol === "http:" || url.protocol === "https:") && url.origin !== location.origin;
  } catch {
    return false;
  }
}

const BULLET = /^\s*[-*•]\s+(.*)$/;
const NUMBERED = /^\s*\d{1,3}[.)]\s+(.*)$/;
const HEADING = /^\s*#{1,6}\s+(.*)$/;

/**
 * What of an answer still being written can be rendered: its complete lines, and the line being
 * written unless it starts a table row, a list item or a heading (those come once the line is
 * complete), without a half-open "**". So a table grows row by row and no markup shows on the way.
 */
export function streamable(text: string): string {
  const cut = text.lastIndexOf("\n") + 1;
  const done = text.slice(0, cut);
  const tail = text.slice(cut);
  if (/^\s*(\||[-*•#]|\d{1,3}[.)]?(\s|$))/.test(tail) || !tail.trim()) return done;
  const open = (tail.match(/\*\*/g)?.length ?? 0) % 2 === 1;
  return done + (open ? tail.slice(0, tail.lastIndexOf("**")) : tail);
}

/** Renders answer text as block elements into a fragment. */
export function renderRichText(text: string, sources: Source[] = []): DocumentFragment {
  const fragment = document.createDocumentFragment();
  const blocks = text.replace(/\r\n?/g, "\n").split(/\n\s*\n/);
  for (const block of blocks) {
    let paragraph: HTMLParagraphElement | null = null;
    let list: HTMLUListElement | HTMLOListElement | null = null;
    let table: string[] = [];
    const flushTable = () => {
      if (table.length) fragment.append(renderTable(table, sources));
      table = [];
    };
    for (const line of block.split("\n")) {
      if (!line.trim()) continue;
      const row = TABLE_ROW.exec(line);
      if (row) {
        table.push(row[1]);
        if (row[2].trim()) {
          // Text after the last cell (a source marker) follows the table.
          flushTable();
          paragraph = document.createElement("p");
          appendInline(paragraph, row[2].trim(), sources);
          fragment.append(paragraph);
        }
        list = null;
        continue;
      }
      flushTable();
      if (CITATIONS_ONLY.test(line)) {
        // Source markers on a line of their own belong to the text just before them.
        const last = fragment.lastElementChild;
        const target = last?.tagName === "P" ? last : last?.matches("ul, ol") ? last.lastElementChild : null;
        if (target instanceof HTMLElement) {
          target.append(" ");
          appendInline(target, line.trim(), sources);
          continue;
        }
      }
      const bullet = BULLET.exec(line);
      const numbered = bullet ? null : NUMBERED.exec(line);
      if (bullet || numbered) {
        const tag = bullet ? "ul" : "ol";
        if (!list || list.tagName.toLowerCase() !== tag) {
          list = document.createElement(tag);
          fragment.append(list);
        }
        const item = document.createElement("li");
        appendInline(item, (bullet ?? numbered)![1], sources);
        list.append(item);
        paragraph = null;
        continue;
      }
      list = null;
      const heading = HEADING.exec(line);
      if (heading) {
        const p = document.createElement("p");
        const strong = document.createElement("strong");
        appendInline(strong, heading[1], sources);
        p.append(strong);
        fragment.append(p);
        paragraph = null;
        continue;
      }
      if (paragraph) {
        paragraph.append(document.createElement("br"));
      } else {
        paragraph = document.createElement("p");
        fragment.append(paragraph);
      }
      appendInline(paragraph, line.trim(), sources);
    }
    flushTable();
  }
  return fragment;
}

const CITATIONS_ONLY = /^\s*(\[\d{1,2}\]\s*)+$/;
const TABLE_ROW = /^\s*(\|.*\|)([^|]*)$/;
const SEPARATOR_CELL = /^\s*:?-{3,}:?\s*$/;

/** A Markdown table: a separator row makes the row above it a header; a first row with only its
 * first cell filled is the caption. */
function renderTable(lines: string[], sources: Source[]): HTMLTableElement {
  const rows = lines.map((line) => line.slice(1, -1).split("|").map((cell) => cell.trim()));
  const table = document.createElement("table");
  table.className = "va-table";
  const head = document.createElement("thead");
  const body = document.createElement("tbody");
  let index = 0;
  if (rows.length > 2 && rows[0].slice(1).every((c) => !c) && rows[1].every((c) => SEPARATOR_CELL.test(c))) {
    const caption = document.createElement("caption");
    appendInline(caption, rows[0][0], sources);
    table.append(caption);
    index = 2;
  }
  for (; index < rows.length; index++) {
    const cells = rows[index];
    if (cells.every((c) => SEPARATOR_CELL.test(c))) continue;
    const isHeader = index + 1 < rows.length && rows[index + 1].every((c) => SEPARATOR_CELL.test(c));
    const tr = document.createElement("tr");
    for (const cell of cells) {
      const td = document.createElement(isHeader ? "th" : "td");
      if (isHeader) td.scope = "col";
      appendInline(td, cell, sources);
      tr.append(td);
    }
    (isHeader ? head : body).append(tr);
  }
  if (head.childElementCount) table.append(head);
  table.append(body);
  return table;
}

// **bold** | [label](url) | [1] | a bare http(s) URL | a Dutch phone number (14 0xx(x), 0xx xxx xxxx)
const INLINE =
  /\*\*([^*]+?)\*\*|\[([^\]\n]{1,300})\]\(([^()\s]{1,2000})\)|\[(\d{1,2})\]|(https?:\/\/[^\s<>()"']+[^\s<>()"'.,;:!?])|(\b14[ -]0\d{2,3}\b|\b0\d{2,3}[ -]?\d{3}[ -]?\d{3,4}\b)/g;

/** A phone number's tel: address, or null when it is not a whole Dutch number (10 digits, or 14 0xx). */
function telUrl(number: string): string | null {
  const digits = number.replace(/\D/g, "");
  return /^140\d{2,3}$/.test(digits) || /^0\d{9}$/.test(digits) ? `tel:${digits}` : null;
}

/** Text as shown: an amount stays on one line with its euro sign ("€ 84,50"). */
function keepTogether(text: string): string {
  return text.replace(/€ (?=\d)/g, "€\u00a0");
}

function appendInline(parent: HTMLElement, text: string, sources: Source[], allowBold = true): void {
  let last = 0;
  for (const match of text.matchAll(INLINE)) {
    const index = match.index ?? 0;
    if (index > last) parent.append(keepTogether(text.slice(last, index)));
    last = index + match[0].length;
    const [whole, bold, label, href, citation, bare, phone] = match;
    if (bold !== undefined) {
      if (allowBold) {
        const strong = document.createElement("strong");
        appendInline(strong, bold, sources, false);
        parent.append(strong);
      } else {
        parent.append(bold);
      }
    } else if (label !== undefined) {
      const url = safeUrl(href);
      parent.append(url ? makeLink(url, label) : label);
    } else if (citation !== undefined) {
      parent.append(citationMark(Number(citation), sources) ?? whole);
    } else if (bare !== undefined) {
      const url = safeUrl(bare);
      parent.append(url ? makeLink(url, bare) : bare);
    } else if (phone !== undefined) {
      const url = telUrl(phone);
      parent.append(url ? makeLink(url, phone, false) : phone);
    }
  }
  if (last < text.length) parent.append(keepTogether(text.slice(last)));
}

function citationMark(number: number, sources: Source[]): HTMLElement | null {
  const source = sources.find((s) => s.index === number);
  if (!source) return null;
  const url = safeUrl(source.url);
  const sup = document.createElement("sup");
  sup.className = "va-cite";
  if (url) {
    const a = makeLink(url, `[${number}]`);
    a.setAttribute("aria-label", `Bron ${number}: ${source.title || url}`);
    sup.append(a);
  } else {
    sup.textContent = `[${number}]`;
  }
  return sup;
}
