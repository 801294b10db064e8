/**
 * An error message as text that wraps well in a narrow box: long paths and URLs break
 * anywhere (see the stylesheet), but a command-line flag such as `--models-seed-dir`
 * stays on one line.
 * @module
 */
import type { JSX } from "preact";
import { flagParts } from "../lib/flag_parts.ts";

/** The text of a message, its flags kept whole. */
export function ErrorText(props: { text: string }): JSX.Element {
  return (
    <>
      {flagParts(props.text).map((part, i) =>
        i % 2 === 1 ? <span key={i} class="flag">{part}</span> : part
      )}
    </>
  );
}
