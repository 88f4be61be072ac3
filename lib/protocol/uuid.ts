import { randomFillSync } from 'node:crypto';

/*
 * The ids this library makes (audit events, escalations, grants, a
 * standalone server's tenant, a PostgreSQL replica): random
 * version 4 UUIDs, lowercase, from the same CSPRNG as crypto.randomUUID, which
 * also draws them from a cache of random bytes. Written into one buffer and
 * read out as one flat string: randomUUID builds its text from twenty
 * concatenations (a tree of strings the first reader of it must flatten, and
 * ~600 bytes of garbage per id), on the path of every gated call.
 */

const IDS_PER_FILL = 256;
const random = Buffer.alloc(16 * IDS_PER_FILL);
let next = random.length;
const text = Buffer.alloc(36);
const HEX = Buffer.from('0123456789abcdef', 'latin1');

/** A fresh random (version 4) UUID, e.g. `3b241101-e2bb-4255-8caf-4136c566a962`. */
export function newUuid(): string {
  if (next === random.length) {
    randomFillSync(random);
    next = 0;
  }
  const at = next;
  next += 16;
  // The version (4) and variant (10xx) bits, as RFC 9562 sets them.
  random[at + 6] = (random[at + 6] & 0x0f) | 0x40;
  random[at + 8] = (random[at + 8] & 0x3f) | 0x80;
  let out = 0;
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) text[out++] = 0x2d;
    const byte = random[at + i];
    text[out++] = HEX[byte >> 4];
    text[out++] = HEX[byte & 0x0f];
  }
  return text.toString('latin1', 0, 36);
}
