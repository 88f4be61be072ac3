import {
  Injectable,
  createParamDecorator,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { ReviewDesk, unauthorized } from './review-desk';
import type { ReviewRequest } from './review-module.options';

// The principal of each request that passed the guard, for the handler.
const principals = new WeakMap<object, string>();

/**
 * Runs the app's `authorize` before every review route but the page (the
 * SSE stream included: a guard answers before the stream starts). No
 * principal → 401, the same body whatever the reason.
 */
@Injectable()
export class ReviewAuthGuard implements CanActivate {
  constructor(private readonly desk: ReviewDesk) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return false;
    const request = context.switchToHttp().getRequest<ReviewRequest>();
    const principal = await this.desk.principalOf(request);
    if (principal === null) throw unauthorized();
    principals.set(request, principal);
    return true;
  }
}

/** The principal ReviewAuthGuard found for this request. */
export const ReviewPrincipalParam = createParamDecorator(
  (_data: unknown, context: ExecutionContext): string => {
    const principal = principals.get(context.switchToHttp().getRequest<object>());
    // Only reachable if a route lost its guard: fail closed.
    if (principal === undefined) throw unauthorized();
    return principal;
  },
);
