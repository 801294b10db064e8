/**
 * Asks for the node's API key (a node started with `--api-key`), kept in this browser.
 * @module
 */
import type { JSX } from "preact";
import { useState } from "preact/hooks";
import { Dialog } from "./dialog.tsx";

/** Props of {@linkcode ApiKeyDialog}. */
export interface ApiKeyDialogProps {
  /** The node's message when a key was sent and refused. */
  refused: string | null;
  onSave(key: string): void;
  onClose(): void;
}

/** The API key prompt. */
export function ApiKeyDialog(props: ApiKeyDialogProps): JSX.Element {
  const [key, setKey] = useState("");
  return (
    <Dialog title="This node needs an API key" name="api-key" onClose={props.onClose}>
      <form
        class="settings"
        onSubmit={(e) => {
          e.preventDefault();
          if (key.trim() === "") return;
          props.onSave(key.trim());
          props.onClose();
        }}
      >
        <p class="dialog-text">
          It was started with <code>--api-key</code> (or{" "}
          <code>EXO_API_KEY</code>). Enter that key to use it; this browser keeps it.
        </p>
        {props.refused && <p class="invalid">{props.refused}</p>}
        <label>
          <span>API key</span>
          <input
            name="api_key"
            type="password"
            autoComplete="off"
            value={key}
            onInput={(e) => setKey((e.target as HTMLInputElement).value)}
          />
        </label>
        <div class="dialog-actions">
          <button type="button" class="button ghost" onClick={props.onClose}>Cancel</button>
          <button type="submit" class="button primary" disabled={key.trim() === ""}>Use key</button>
        </div>
      </form>
    </Dialog>
  );
}
