/**
 * The message box: Enter sends, Shift+Enter is a new line; Send becomes Stop while a
 * reply is generated.
 * @module
 */
import type { JSX } from "preact";
import { useEffect, useRef } from "preact/hooks";
import { Icon } from "./icons.tsx";

/** Props of {@linkcode Composer}. */
export interface ComposerProps {
  busy: boolean;
  /** Why sending is not possible now (no model chosen), shown as the placeholder. */
  blocked: string | null;
  hint: string;
  /** The text in the box; the page keeps it, so a message that cannot go yet is not lost. */
  text: string;
  onText(text: string): void;
  /** Takes the text; the page empties the box once the message is really sent. */
  onSend(text: string): void;
  onStop(): void;
}

/** The message box. */
export function Composer(props: ComposerProps): JSX.Element {
  const { text } = props;
  const box = useRef<HTMLTextAreaElement>(null);
  useEffect(() => {
    const area = box.current;
    if (!area) return;
    area.style.height = "auto";
    area.style.height = `${Math.min(area.scrollHeight, 240)}px`;
  }, [text]);
  useEffect(() => box.current?.focus(), []);
  const canSend = !props.busy && props.blocked === null && text.trim() !== "";
  const send = () => {
    if (canSend) props.onSend(text);
  };
  return (
    <form
      class="composer"
      onSubmit={(e) => {
        e.preventDefault();
        send();
      }}
    >
      <div class="composer-box">
        <textarea
          ref={box}
          rows={1}
          value={text}
          placeholder={props.blocked ?? "Message the cluster"}
          aria-label="Message"
          onInput={(e) => props.onText((e.target as HTMLTextAreaElement).value)}
          onKeyDown={(e) => {
            if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
              e.preventDefault();
              send();
            }
          }}
        />
        {props.busy
          ? (
            <button
              type="button"
              class="send stop"
              aria-label="Stop"
              title="Stop"
              onClick={props.onStop}
            >
              <Icon name="stop" />
            </button>
          )
          : (
            <button type="submit" class="send" aria-label="Send" title="Send" disabled={!canSend}>
              <Icon name="send" />
            </button>
          )}
      </div>
      <p class="composer-hint">{props.hint}</p>
    </form>
  );
}
