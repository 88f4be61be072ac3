import type { ServerResponse } from 'node:http';
import { Inject, Injectable } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';

/**
 * Writes answers through Nest's HTTP adapter, so the controllers run on
 * Express and Fastify alike, and drops an answer whose client has gone (a
 * held call answered after the caller hung up).
 */
@Injectable()
export class WireReply {
  constructor(@Inject(HttpAdapterHost) private readonly adapterHost: HttpAdapterHost) {}

  send(
    response: unknown,
    status: number,
    body?: unknown,
    headers: Record<string, string> = {},
  ): void {
    const raw = rawResponse(response);
    if (raw.headersSent || raw.writableEnded || raw.destroyed) return;
    const adapter = this.adapterHost.httpAdapter;
    for (const [name, value] of Object.entries(headers)) adapter.setHeader(response, name, value);
    adapter.reply(response, body, status);
  }
}

export function rawResponse(response: unknown): ServerResponse {
  return ((response as { raw?: ServerResponse }).raw ?? response) as ServerResponse;
}
