import libmime from 'libmime';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The text of a header value as a publisher meant it. Node hands header values over as Latin-1
 * strings (one char per byte), but curl and most tools send raw UTF-8 bytes: those are decoded as
 * UTF-8 when they are valid UTF-8, else kept as Latin-1 (what the bytes then are). RFC 2047 encoded
 * words (`=?UTF-8?B?…?=`, `=?UTF-8?Q?…?=`), which ntfy documents for non-ASCII titles, are decoded
 * after that, as ntfy does with Go's mime.WordDecoder.
 */
export function decodeHeaderText(raw: string): string {
  let text = raw;
  // Only a string with chars above 0x7f can be UTF-8 bytes read as Latin-1 (and all must be ≤ 0xff).
  if (/[\u0080-\u00ff]/.test(raw) && !/[^\p{ASCII}\u0080-\u00ff]/u.test(raw)) {
    try {
      text = utf8.decode(Buffer.from(raw, 'latin1'));
    } catch {
      text = raw;
    }
  }
  return text.includes('=?') ? libmime.decodeWords(text) : text;
}
