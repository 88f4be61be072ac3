import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { ServerMessages } from '../protocol/provenance.messages';
import { ApiKeyRing, type ApiKeyScope } from './api-keys';
import { API_KEY_HEADER, API_KEY_SCOPE } from './constants';
import { WireHttpError } from './errors';

type ScopedRequest = { headers: Record<string, unknown>; [API_KEY_SCOPE]?: ApiKeyScope };

/**
 * Every /v1 route: a missing or unknown `X-PROVENANCE-API-KEY` is a 401 with
 * the reference server's body. The key is never echoed, logged or kept.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(@Inject(ApiKeyRing) private readonly keys: ApiKeyRing) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<ScopedRequest>();
    const header = request.headers[API_KEY_HEADER];
    if (typeof header !== 'string' || header === '') {
      throw WireHttpError.message(401, ServerMessages.notAuthenticated());
    }
    const scope = this.keys.lookup(header);
    if (scope === null) throw WireHttpError.message(401, ServerMessages.invalidKey());
    request[API_KEY_SCOPE] = scope;
    return true;
  }
}

/** The scope the guard found for this request. */
export function scopeOf(request: unknown): ApiKeyScope {
  const scope = (request as ScopedRequest)[API_KEY_SCOPE];
  // The guard runs on every route that calls this; no scope means a wiring error, never "anyone".
  if (scope === undefined) throw WireHttpError.message(401, ServerMessages.notAuthenticated());
  return scope;
}
