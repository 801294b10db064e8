/**
 * The settings of one conversation: system prompt, temperature and max tokens (shown with
 * the page's default), sent with each of its requests.
 * @module
 */
import type { JSX } from "preact";
import { useState } from "preact/hooks";
import type { ChatSettings } from "../lib/history_store.ts";
import { Dialog } from "./dialog.tsx";

/** Props of {@linkcode SettingsDialog}. */
export interface SettingsDialogProps {
  settings: ChatSettings;
  /** The longest reply when the field is empty. */
  defaultMaxTokens: number;
  onSave(settings: ChatSettings): void;
  onClose(): void;
}

/** Edits a conversation's settings. */
export function SettingsDialog(props: SettingsDialogProps): JSX.Element {
  const [system, setSystem] = useState(props.settings.systemPrompt);
  const [temperature, setTemperature] = useState(
    props.settings.temperature === null ? "" : String(props.settings.temperature),
  );
  const [maxTokens, setMaxTokens] = useState(
    props.settings.maxTokens === null ? "" : String(props.settings.maxTokens),
  );
  const temperatureValue = temperature.trim() === "" ? null : Number(temperature);
  const maxTokensValue = maxTokens.trim() === "" ? null : Number(maxTokens);
  const temperatureError = temperatureValue !== null &&
      !(Number.isFinite(temperatureValue) && temperatureValue >= 0 && temperatureValue <= 2)
    ? "A number from 0 to 2"
    : null;
  const maxTokensError = maxTokensValue !== null &&
      !(Number.isInteger(maxTokensValue) && maxTokensValue >= 1)
    ? "A whole number of at least 1"
    : null;
  const valid = temperatureError === null && maxTokensError === null;
  return (
    <Dialog title="Conversation settings" name="settings" onClose={props.onClose}>
      <form
        class="settings"
        onSubmit={(e) => {
          e.preventDefault();
          if (!valid) return;
          props.onSave({
            systemPrompt: system,
            temperature: temperatureValue,
            maxTokens: maxTokensValue,
          });
          props.onClose();
        }}
      >
        <label>
          <span>System prompt</span>
          <textarea
            name="system"
            rows={4}
            value={system}
            placeholder="You are a helpful assistant."
            onInput={(e) => setSystem((e.target as HTMLTextAreaElement).value)}
          />
        </label>
        <div class="settings-row">
          <label>
            <span>Temperature</span>
            <input
              name="temperature"
              inputMode="decimal"
              value={temperature}
              placeholder="model default"
              aria-invalid={temperatureError !== null}
              onInput={(e) => setTemperature((e.target as HTMLInputElement).value)}
            />
            <small class={temperatureError ? "invalid" : ""}>
              {temperatureError ?? "0 is most predictable; empty uses the model's"}
            </small>
          </label>
          <label>
            <span>Max tokens</span>
            <input
              name="max_tokens"
              inputMode="numeric"
              value={maxTokens}
              placeholder={`${props.defaultMaxTokens} (default)`}
              aria-invalid={maxTokensError !== null}
              onInput={(e) => setMaxTokens((e.target as HTMLInputElement).value)}
            />
            <small class={maxTokensError ? "invalid" : ""}>
              {maxTokensError ??
                `Longest reply; empty uses ${props.defaultMaxTokens} tokens (about ${
                  Math.round((props.defaultMaxTokens * 0.75) / 50) * 50
                } words)`}
            </small>
          </label>
        </div>
        <div class="dialog-actions">
          <button type="button" class="button ghost" onClick={props.onClose}>Cancel</button>
          <button type="submit" class="button primary" disabled={!valid}>Save</button>
        </div>
      </form>
    </Dialog>
  );
}
