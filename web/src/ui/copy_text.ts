/**
 * Copies text to the clipboard. `navigator.clipboard` exists only on secure origins
 * (localhost, https); a page opened from another Mac over plain http falls back to a
 * hidden textarea and the copy command.
 * @module
 */

/** Copies `text`; resolves to whether it worked. */
export async function copyText(text: string): Promise<boolean> {
  if (globalThis.isSecureContext && navigator.clipboard !== undefined) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch {
      // Permission refused: try the old way below.
    }
  }
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.style.position = "fixed";
  area.style.opacity = "0";
  document.body.append(area);
  area.select();
  try {
    return document.execCommand("copy");
  } finally {
    area.remove();
  }
}
