import { lastValueFrom } from 'rxjs';
import type { AuditVerification } from '../../engine/audit/audit-chain';
import type { AuditEvent } from '../../engine/audit/audit-event';
import type { AuditQuery } from '../../engine/audit/audit-query';
import { GatewayError } from '../../protocol/provenance.errors';
import type { AuditReader } from '../audit-reader';
import {
  fromWireAuditCount,
  fromWireAuditListing,
  fromWireIntegrity,
  toWireAuditQuery,
} from './audit.wire';
import { protocolError, redact, statusError, type ExchangeContext } from './http.errors';
import type { HttpExchange, RawResponse } from './http.exchange';
import { RemoteAuditMessages } from './remote-audit.messages';

/** The server's cap on one listing (lib/server/audit.controller.ts, MAX_AUDIT_PAGE). */
const PAGE = 1000;

/**
 * `gateway.audit` of a remote gateway: the AuditReader methods over the
 * gateway server's audit API, with the transport's key (so the trail read is
 * the key's tenant's) and the same camelCase shapes as the embedded log.
 *
 * `list` with a `limit` of at most 1000 is one request, answered by the
 * server's own AuditLog.list; without a limit, or a larger one, it pages
 * forward 1000 events at a time (after the last position seen) and keeps the
 * last `limit` matches, as the embedded log does. Events are appended only,
 * so pages never overlap nor miss an event that was there at the first one.
 */
export class RemoteAuditReader implements AuditReader {
  /** The key's tenant, learnt from the first listing (count and verify name it in the path). */
  private tenant: Promise<string> | null = null;

  /** `exchange`: the HTTP transport's (its key, agents and timeout), asked at each request. */
  constructor(private readonly exchangeOf: () => HttpExchange) {}

  private get exchange(): HttpExchange {
    return this.exchangeOf();
  }

  async list(query: AuditQuery = {}): Promise<AuditEvent[]> {
    const limit = query.limit === undefined || query.limit < 0 ? Infinity : Math.floor(query.limit);
    if (limit <= PAGE) return (await this.page({ ...query, limit })).events;
    const found: AuditEvent[] = [];
    let offset = query.offset === undefined ? 0 : Math.max(0, Math.floor(query.offset));
    for (;;) {
      const { events } = await this.page({ ...query, limit: PAGE, offset });
      found.push(...events);
      if (query.offset !== undefined && found.length >= limit) return found.slice(0, limit);
      if (events.length < PAGE) break;
      offset = events[events.length - 1].position + 1;
    }
    return limit === Infinity ? found : found.slice(Math.max(0, found.length - limit));
  }

  async count(query: Omit<AuditQuery, 'limit'> = {}): Promise<number> {
    const { limit: _limit, offset: _offset, ...filter } = query as AuditQuery;
    const path = `/v1/audit/count/${encodeURIComponent(await this.tenantId())}`;
    return this.get(path, toWireAuditQuery(filter), fromWireAuditCount);
  }

  async verify(): Promise<AuditVerification> {
    const path = `/v1/audit/integrity/${encodeURIComponent(await this.tenantId())}`;
    return this.get(path, {}, fromWireIntegrity);
  }

  private async page(
    query: AuditQuery,
  ): Promise<{ tenantId: string | null; events: AuditEvent[] }> {
    const listing = await this.get('/v1/audit', toWireAuditQuery(query), fromWireAuditListing);
    if (listing.tenantId !== null) this.tenant ??= Promise.resolve(listing.tenantId);
    return listing;
  }

  /** The key's tenant: asked once (an empty listing names it); a failed ask is asked again. */
  private tenantId(): Promise<string> {
    this.tenant ??= this.get('/v1/audit', { limit: 0 }, fromWireAuditListing).then(
      ({ tenantId }) => {
        if (tenantId !== null) return tenantId;
        const ctx = this.exchange.context('GET', '/v1/audit');
        throw protocolError(ctx, RemoteAuditMessages.noTenant(ctx.url), 200);
      },
    );
    const asked = this.tenant;
    asked.catch(() => {
      if (this.tenant === asked) this.tenant = null;
    });
    return asked;
  }

  private async get<T>(
    path: string,
    params: Record<string, string | number>,
    read: (body: unknown) => T,
  ): Promise<T> {
    const { ctx, response } = await lastValueFrom(this.exchange.request('GET', path, { params }));
    if (response.status !== 200) throw refusal(ctx, response);
    return this.exchange.parse(ctx, response, read);
  }
}

/** A 403 names the key's role the gateway wants (never the key); a 404 says the API is missing. */
function refusal(ctx: ExchangeContext, response: RawResponse): GatewayError {
  const where = `${ctx.method} ${ctx.url}`;
  const status = response.status;
  let message: string;
  if (status === 403) message = RemoteAuditMessages.refused(where, detailOf(response.text));
  else if (status === 404) message = RemoteAuditMessages.noAuditApi(where);
  else return statusError(ctx, status, response.text);
  return new GatewayError(redact(message, ctx.apiKey), { url: ctx.url, kind: 'status', status });
}

/** The message of a `{"detail":{"message":…}}` or `{"detail":"…"}` body, bounded; null if none. */
function detailOf(text: string): string | null {
  try {
    const detail = (JSON.parse(text) as { detail?: unknown }).detail;
    const message =
      typeof detail === 'string'
        ? detail
        : typeof (detail as { message?: unknown } | null)?.message === 'string'
          ? (detail as { message: string }).message
          : null;
    return message === null ? null : message.slice(0, 300);
  } catch {
    return null;
  }
}
