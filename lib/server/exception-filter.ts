import type { IncomingMessage } from 'node:http';
import {
  Catch,
  HttpException,
  Inject,
  Injectable,
  Logger,
  type ArgumentsHost,
  type ExceptionFilter,
} from '@nestjs/common';
import { ServerMessages } from '../protocol/provenance.messages';
import { WireHttpError } from './errors';
import { WireReply } from './reply';

/**
 * Turns every failure of the server's routes into the reference server's
 * error bodies. Also usable app-wide (the standalone server does), so that an
 * unknown route answers FastAPI's `{"detail": "Not Found"}`.
 */
@Catch()
@Injectable()
export class WireExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('ProvenanceGatewayServer');

  constructor(@Inject(WireReply) private readonly reply: WireReply) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const response = http.getResponse<unknown>();
    if (clientWentAway(exception, http.getRequest<unknown>())) {
      // Nobody to answer, and nothing failed on our side: not an error line per dropped socket.
      this.logger.debug(
        `client went away before its request was read (${String((exception as Error).message)}, ECONNRESET)`,
      );
      return;
    }
    const error = this.toWire(exception);
    // A body left unread (too large) must not be read as the next request.
    const headers: Record<string, string> = error.status === 413 ? { Connection: 'close' } : {};
    this.reply.send(response, error.status, error.body, headers);
  }

  private toWire(exception: unknown): WireHttpError {
    if (exception instanceof WireHttpError) return exception;
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      if (status === 404) return WireHttpError.notFound();
      if (status === 405)
        return new WireHttpError(405, { detail: ServerMessages.methodNotAllowed() });
      if (status === 413) return WireHttpError.message(413, exception.message);
      return new WireHttpError(status, { detail: exception.message });
    }
    this.logger.error(
      `unexpected failure: ${exception instanceof Error ? exception.message : String(exception)}`,
    );
    return WireHttpError.message(500, ServerMessages.internal());
  }
}

/**
 * The client hung up while its request was being read: Node fails the
 * request stream with `Error('aborted')`, code `ECONNRESET`, and marks the
 * request destroyed before it completed. Only that: an ECONNRESET from
 * anywhere else (the request still open, or complete) is a real failure.
 */
function clientWentAway(exception: unknown, request: unknown): boolean {
  // Not `instanceof Error`: the stream's error may come from another realm (a test's VM context).
  if (typeof exception !== 'object' || exception === null) return false;
  if ((exception as { code?: unknown }).code !== 'ECONNRESET') return false;
  const raw = ((request as { raw?: IncomingMessage } | null)?.raw ?? request) as
    Partial<IncomingMessage> | null | undefined;
  return raw?.destroyed === true && raw.complete !== true;
}
