import {
  Injectable,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import type { HttpAdapterHost } from '@nestjs/core';
import { Observable, finalize } from 'rxjs';
import { ProvenanceConfigError } from '../protocol/provenance.errors';
import { Messages } from '../protocol/provenance.messages';
import type { ProvenanceGateway } from '../gateway/provenance.gateway';
import { isValidSessionId, newSessionId } from '../protocol/session-id';
import { SessionContext } from '../session/session.context';

export const DEFAULT_SESSION_HEADER = 'X-Provenance-Session';

// RFC 9110 token characters: anything else cannot be a header name.
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * Opens one session per HTTP request and makes it current while the handler
 * runs, so that every gated call the request makes, in any singleton
 * service, is grouped under it (no `Scope.REQUEST`). The id comes from the
 * request's session header when it is a well-formed session id; anything
 * else is ignored, never echoed, and a fresh `sess_` id is used. The response
 * carries the id in the same header. The session is closed (one summary
 * line) when the response stream ends, however it ends.
 *
 * An interceptor rather than a middleware: it runs the same on Express and
 * Fastify, sees the execution context type (other contexts pass through),
 * and its stream's end is the request's end. Nest guards and middleware run
 * before it, outside the session.
 */
@Injectable()
export class ProvenanceSessionInterceptor implements NestInterceptor {
  private readonly header: string | null;
  private readonly incoming: string | null;

  constructor(
    private readonly gateway: ProvenanceGateway,
    options: { sessionHeader?: string | false },
    private readonly adapterHost?: HttpAdapterHost,
  ) {
    const header = options.sessionHeader ?? DEFAULT_SESSION_HEADER;
    if (header !== false && (typeof header !== 'string' || !HEADER_NAME.test(header))) {
      throw new ProvenanceConfigError(
        'sessionHeader',
        Messages.badOption('sessionHeader', 'an HTTP header name, or false', header),
      );
    }
    this.header = header === false ? null : header;
    this.incoming = this.header?.toLowerCase() ?? null;
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (this.header === null || this.incoming === null || context.getType() !== 'http') {
      return next.handle();
    }
    // A test double given with overrideProvider(ProvenanceGateway) opens no sessions.
    if (typeof this.gateway.session !== 'function') return next.handle();
    const http = context.switchToHttp();
    const request = http.getRequest<{ headers?: Record<string, unknown> }>();
    const asked = request?.headers?.[this.incoming];
    const id = isValidSessionId(asked) ? asked : newSessionId();
    this.setResponseHeader(http.getResponse(), id);
    const session = this.gateway.session(id);
    const store = { session, owner: this.gateway };
    // nestjs-cls's pattern: the handler's stream is started inside run(), so
    // everything it awaits or subscribes to inherits the session.
    return new Observable<unknown>((subscriber) =>
      SessionContext.run(store, () =>
        next
          .handle()
          .pipe(finalize(() => session.close()))
          .subscribe(subscriber),
      ),
    );
  }

  private setResponseHeader(response: unknown, id: string): void {
    const adapter = this.adapterHost?.httpAdapter;
    if (adapter) {
      adapter.setHeader(response, this.header as string, id);
      return;
    }
    const res = response as {
      setHeader?: (n: string, v: string) => void;
      header?: (n: string, v: string) => void;
    };
    if (typeof res?.setHeader === 'function') res.setHeader(this.header as string, id);
    else if (typeof res?.header === 'function') res.header(this.header as string, id);
  }
}
