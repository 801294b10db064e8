/**
 * Model output to safe HTML: Markdown (GitHub flavour) with highlighted code blocks that
 * carry a copy button. Raw HTML in the output is shown as text, never parsed, and the
 * result goes through DOMPurify as well, so a reply can never run script in the page.
 * Needs a DOM (DOMPurify); the page is its only user.
 * @module
 */
import { Marked, type Tokens } from "marked";
import DOMPurify from "dompurify";
import { escapeHtml, highlight } from "./highlight.ts";

const marked = new Marked({
  gfm: true,
  breaks: false,
  renderer: {
    // Model output is text: markup in it is shown, not rendered.
    html({ text }: Tokens.HTML | Tokens.Tag): string {
      return escapeHtml(text);
    },
    code({ text, lang }: Tokens.Code): string {
      const language = (lang ?? "").trim().split(/\s+/)[0].toLowerCase();
      const { html, language: shown } = highlight(text, language);
      return `<div class="code-block"><div class="code-head"><span class="code-lang">${
        escapeHtml(shown || "text")
      }</span><button type="button" class="copy-code" data-copy-code>Copy</button></div><pre><code class="hljs">${html}</code></pre></div>`;
    },
    link({ href, title, tokens }: Tokens.Link): string {
      const text = this.parser.parseInline(tokens);
      const titleAttr = title ? ` title="${escapeHtml(title)}"` : "";
      return `<a href="${
        escapeHtml(href)
      }"${titleAttr} target="_blank" rel="noopener noreferrer">${text}</a>`;
    },
  },
});

const PURIFY_OPTIONS = {
  ADD_ATTR: ["target", "data-copy-code"],
  FORBID_TAGS: ["style", "form", "input", "textarea", "select", "iframe", "object", "embed"],
};

/** Renders Markdown to sanitized HTML. */
export function renderMarkdown(text: string): string {
  const html = marked.parse(text, { async: false });
  return DOMPurify.sanitize(html, PURIFY_OPTIONS);
}
