import type { IncomingMessage } from 'node:http';
import { ServerMessages } from '../protocol/provenance.messages';
import { WireHttpError } from './errors';
import { findDuplicateKey } from './json-duplicate-keys';

/**
 * The JSON body of a request, read by the server itself under its own size
 * limit, so that a too large or malformed body gets the reference server's
 * answers (413, FastAPI's 422) on Express and Fastify alike. When the host
 * app has parsed the body already (its own body parser), that value is used;
 * only a text or a Buffer can then still be checked for duplicate keys.
 */
export async function readJsonBody(request: unknown, limit: number): Promise<unknown> {
  const parsed = (request as { body?: unknown }).body;
  if (parsed !== undefined) {
    if (Buffer.isBuffer(parsed)) return parseJson(parsed.toString('utf8'));
    if (typeof parsed === 'string') return parseJson(parsed);
    return parsed;
  }
  const raw = ((request as { raw?: IncomingMessage }).raw ?? request) as IncomingMessage;
  const declared = Number(raw.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit);
  if (raw.readableEnded || raw.complete) return parseJson('');
  // The usual small call has arrived whole with its headers and waits in the
  // stream's buffer: taken at once, with no listeners or promise to wait on.
  if (raw.readableFlowing === null && declared > 0 && raw.readableLength === declared) {
    const whole = raw.read(declared) as Buffer | null;
    if (whole !== null) return parseJson(whole.toString('utf8'));
  }
  const text = await new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      raw.off('data', onData);
      raw.off('end', onEnd);
      raw.off('error', onError);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        // Stop buffering; the answer closes the connection, so the rest is never read.
        raw.pause();
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      // A body in one chunk (the usual small call) is decoded without a copy.
      resolve((chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)).toString('utf8'));
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    raw.on('data', onData);
    raw.on('end', onEnd);
    raw.on('error', onError);
  });
  return parseJson(text);
}

function tooLarge(limit: number): WireHttpError {
  return WireHttpError.message(413, ServerMessages.bodyTooLarge(limit));
}

function parseJson(text: string): unknown {
  if (text.trim() === '') {
    throw WireHttpError.validation([
      { type: 'missing', loc: ['body'], msg: 'Field required', input: null },
    ]);
  }
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch (error) {
    throw WireHttpError.validation([
      {
        type: 'json_invalid',
        loc: ['body', 0],
        msg: 'JSON decode error',
        input: {},
        ctx: { error: error instanceof Error ? error.message : 'invalid JSON' },
      },
    ]);
  }
  // JSON.parse keeps the last of two equal keys; whoever else reads the body may keep the first.
  const duplicate = findDuplicateKey(text, value);
  if (duplicate !== null) {
    throw WireHttpError.validation([
      {
        type: 'json_invalid',
        loc: ['body', ...duplicate],
        msg: 'JSON decode error',
        input: {},
        ctx: { error: `Duplicate key '${String(duplicate[duplicate.length - 1])}'` },
      },
    ]);
  }
  return value;
}
