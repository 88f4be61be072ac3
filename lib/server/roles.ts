/**
 * Roles of the server's API keys: separation of duties (docs/server.md, "Roles").
 *
 * | role       | may                                                                   |
 * |------------|-----------------------------------------------------------------------|
 * | `agent`    | `POST /v1/gateway/execute`, `GET /v1/escalations/{id}/wait`            |
 * | `reviewer` | `GET /v1/escalations/pending`, `GET /v1/escalations/`, `POST …/decide` |
 * | both       | `GET /v1/audit/{tenant}`, `GET /v1/audit/integrity/{tenant}`           |
 *
 * How a route requires a role. `ApiKeyGuard` authenticates the key and then
 * reads `@RequireRole` (on the handler, else on the class); a key of another
 * role gets 403 `{"detail":{"message":"This API key has the role 'agent'; this
 * route needs 'reviewer' …"}}` before the handler runs (the body is not read):
 *
 * ```ts
 * @Controller('v1/grants')
 * @UseGuards(ApiKeyGuard)
 * @UseFilters(WireExceptionFilter)
 * export class GatewayGrantsController {
 *   @Post()
 *   @RequireRole('reviewer')
 *   async create(@Req() req: unknown, @Res() res: unknown) {
 *     const scope = scopeOf(req); // scope.role === 'reviewer', scope.principal is who grants
 *     …
 *   }
 * }
 * ```
 *
 * Or inside a handler, for a check that depends on the request:
 * `requireRole(scopeOf(req), 'reviewer')` throws the same 403.
 *
 * A route without `@RequireRole` is open to every valid key of either role
 * (the audit routes rely on this): give every new route its role.
 *
 * `{ insecureAnyKey: true }` marks the reference server's review routes
 * (lists, decide): there, and only there, the server option `reviewAnyKey:
 * true` lets agent keys in too. New routes should not use it.
 */
import { SetMetadata } from '@nestjs/common';
import { ServerMessages } from '../protocol/provenance.messages';
import type { ApiKeyScope } from './api-keys';
import { WireHttpError } from './errors';
import type { GatewayServerKeyRole } from './options';

export type { GatewayServerKeyRole } from './options';

/** The metadata `@RequireRole` sets and `ApiKeyGuard` reads. */
export const REQUIRED_ROLE = 'nestjs-provenance:server:required-role';

export interface RequireRoleOptions {
  /** A review route of the reference server: `reviewAnyKey: true` opens it to agent keys. */
  insecureAnyKey?: boolean;
}

export interface RoleRequirement {
  roles: readonly GatewayServerKeyRole[];
  insecureAnyKey: boolean;
}

/** The roles a route (handler or controller) needs; checked by `ApiKeyGuard`. */
export function RequireRole(
  roles: GatewayServerKeyRole | readonly GatewayServerKeyRole[],
  options: RequireRoleOptions = {},
): ClassDecorator & MethodDecorator {
  const requirement: RoleRequirement = {
    roles: typeof roles === 'string' ? [roles] : [...roles],
    insecureAnyKey: options.insecureAnyKey === true,
  };
  return SetMetadata(REQUIRED_ROLE, requirement);
}

/** Throws the 403 unless the key has one of `roles`. Names the key's role and the roles needed, never the key. */
export function requireRole(scope: ApiKeyScope, ...roles: GatewayServerKeyRole[]): void {
  if (!roles.includes(scope.role)) {
    throw WireHttpError.message(403, ServerMessages.wrongRole(scope.role, roles));
  }
}
