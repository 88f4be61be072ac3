/**
 * `text` as one flat string. V8 builds a long concatenation as a cons string
 * and, once it is flattened, keeps that 32-byte wrapper in front of the flat
 * copy for as long as the text lives; a split that finds nothing gives the
 * flat copy itself. For the texts a held call keeps (its canonical
 * parameters; its ids are flat already, lib/protocol/uuid.ts). Any text
 * comes back equal, a NUL in it included.
 */
export function flatString(text: string): string {
  const parts = text.split('\u0000');
  return parts.length === 1 ? parts[0] : text;
}
