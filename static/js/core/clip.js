/**
 * Handing things to the user: the clipboard and downloads (the export endpoints
 * are POSTs, so their files arrive as blobs, saved through an object URL).
 */

/**
 * Put `text` on the clipboard; where the Clipboard API is refused (a page served
 * over plain http from another machine), copy the selection of `field` instead.
 * @param {string} text @param {HTMLInputElement | HTMLTextAreaElement} [field]
 * @returns {Promise<boolean>} whether it worked
 */
export async function copyText(text, field) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    if (!field) return false;
    field.focus();
    field.select();
    return document.execCommand('copy');
  }
}

/** Save `blob` as a download named `name` (an object URL on a transient link). */
export function download(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** The file name a Content-Disposition header gives, or `fallback`. */
export function fileName(header, fallback) {
  const m = /filename="([^"]+)"/.exec(header || '');
  return m ? m[1] : fallback;
}
