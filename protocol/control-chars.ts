/**
 * Control characters (C0, DEL, C1) in text that came from a publisher. Stored URLs and labels may not
 * contain them; every output (terminal, notification, window) strips or escapes them, so an alarm can
 * never forge a line, move a cursor, retitle a terminal or plant a clickable escape sequence.
 * No dependencies, so the renderer can use it too.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: as above; newlines and tabs are kept.
const CONTROL_CHARS_BUT_WHITESPACE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

export function hasControlChars(text: string): boolean {
  return CONTROL_CHARS.test(text);
}

/** Removes control characters but keeps newlines and tabs (bodies are multi-line text). */
export function stripControlChars(text: string): string {
  return text.replace(CONTROL_CHARS_BUT_WHITESPACE, '');
}
