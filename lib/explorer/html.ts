/**
 * HTML that is escaped by construction: the `html` tag escapes every interpolated value unless it is itself
 * `html` output, so a page can only carry markup its own templates wrote. Values go into text and into
 * double-quoted attributes; both are safe with the same five-character escape.
 * @module
 */

/** Markup produced by `html` (or `raw`), inserted as is. */
export class Safe {
  /** The markup. */
  readonly text: string;
  /** @internal use `html` or `raw`. */
  constructor(text: string) {
    this.text = text;
  }
  /** The markup, so a `Safe` can be sent as is. */
  toString(): string {
    return this.text;
  }
}

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/**
 * Text with the characters that mean something in HTML replaced by entities.
 * @example escapeHtml('<a href="x">') // "&lt;a href=&quot;x&quot;&gt;"
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

/** A value that may appear in a template: arrays are joined, null, undefined and false print nothing. */
export type Value = Safe | string | number | bigint | boolean | null | undefined | Value[];

function render(v: Value): string {
  if (v instanceof Safe) return v.text;
  if (Array.isArray(v)) return v.map(render).join("");
  if (v === null || v === undefined || v === false) return "";
  return escapeHtml(String(v));
}

/**
 * A template whose interpolations are escaped (unless they are `Safe`).
 * @example html`<td>${"<b>"}</td>`.text // "<td>&lt;b&gt;</td>"
 */
export function html(strings: TemplateStringsArray, ...values: Value[]): Safe {
  let out = strings[0];
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1];
  return new Safe(out);
}

/**
 * Markup taken as is: only for text this program wrote itself (never a value from a peer or a URL).
 * @example raw("&nbsp;").text // "&nbsp;"
 */
export function raw(text: string): Safe {
  return new Safe(text);
}

/**
 * A hash or an address in full. Where it does not fit, the stylesheet cuts it with an ellipsis and the script
 * shows its copy button (at once with `always`, for a page's own subject). The button copies `value` whole.
 */
export function ident(value: string, href?: string, always = false): Safe {
  // Built as one line of text (no formatter inserts white space between the value and its button).
  const v = escapeHtml(value);
  const shown = href
    ? `<a class="mono" href="${escapeHtml(href)}">${v}</a>`
    : `<code class="mono">${v}</code>`;
  const button =
    `<button type="button" class="copy" data-copy="${v}" title="copy the full value" hidden>copy</button>`;
  return new Safe(`<span class="ident${always ? " always" : ""}">${shown}${button}</span>`);
}
