import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ServerMessages } from '../protocol/provenance.messages';
import { ApiKeyRing, type ApiKeyScope } from './api-keys';
import { API_KEY_HEADER, API_KEY_SCOPE } from './constants';
import { WireHttpError } from './errors';
import { GATEWAY_SERVER_OPTIONS } from './module-definition';
import type { ProvenanceGatewayServerOptions } from './options';
import { REQUIRED_ROLE, requireRole, type RoleRequirement } from './roles';

type ScopedRequest = { headers: Record<string, unknown>; [API_KEY_SCOPE]?: ApiKeyScope };

/**
 * Every /v1 route: a missing or unknown `X-PROVENANCE-API-KEY` is a 401 with
 * the reference server's body. The key is never echoed, logged or kept.
 * Then the route's `@RequireRole` (lib/server/roles.ts): a key of another
 * role is a 403 naming its role and the one needed.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  private readonly reviewAnyKey: boolean;

  constructor(
    @Inject(ApiKeyRing) private readonly keys: ApiKeyRing,
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(GATEWAY_SERVER_OPTIONS) options: ProvenanceGatewayServerOptions,
  ) {
    this.reviewAnyKey = options.reviewAnyKey === true;
  }

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<ScopedRequest>();
    const header = request.headers[API_KEY_HEADER];
    if (typeof header !== 'string' || header === '') {
      throw WireHttpError.message(401, ServerMessages.notAuthenticated());
    }
    const scope = this.keys.lookup(header);
    if (scope === null) throw WireHttpError.message(401, ServerMessages.invalidKey());
    const requirement = this.reflector.getAllAndOverride<RoleRequirement | undefined>(
      REQUIRED_ROLE,
      [context.getHandler(), context.getClass()],
    );
    if (requirement !== undefined) {
      const insecurelyOpen =
        requirement.insecureAnyKey && this.reviewAnyKey && scope.role === 'agent';
      if (!insecurelyOpen) requireRole(scope, ...requirement.roles);
    }
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
