/**
 * A reply rendered from Markdown (sanitized, see lib/markdown.ts), with working copy
 * buttons on its code blocks.
 * @module
 */
import type { JSX } from "preact";
import { useMemo } from "preact/hooks";
import { renderMarkdown } from "../lib/markdown.ts";
import { copyText } from "./copy_text.ts";

/** Renders `text` as Markdown. */
export function MarkdownView(props: { text: string; streaming: boolean }): JSX.Element {
  const html = useMemo(() => renderMarkdown(props.text), [props.text]);
  return (
    <div
      class={`markdown${props.streaming ? " streaming" : ""}`}
      onClick={onCopyClick}
      dangerouslySetInnerHTML={{ __html: html }}
    />
  );
}

async function onCopyClick(event: MouseEvent): Promise<void> {
  const button = (event.target as Element | null)?.closest<HTMLButtonElement>("[data-copy-code]");
  if (!button) return;
  const code = button.closest(".code-block")?.querySelector("pre code")?.textContent ?? "";
  const ok = await copyText(code);
  button.textContent = ok ? "Copied" : "Copy failed";
  setTimeout(() => (button.textContent = "Copy"), 1500);
}
