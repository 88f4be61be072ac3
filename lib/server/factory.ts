import type { INestApplication, LoggerService, LogLevel } from '@nestjs/common';
import { HttpAdapterHost, NestFactory } from '@nestjs/core';
import { WireExceptionFilter } from './exception-filter';
import { ProvenanceGatewayServerModule } from './module';
import { DEFAULT_MAX_BODY_BYTES, type ProvenanceGatewayServerOptions } from './options';
import { WireReply } from './reply';

export interface CreateGatewayServerOptions {
  /** `express` (default, @nestjs/platform-express) or `fastify` (@nestjs/platform-fastify). */
  platform?: 'express' | 'fastify';
  /** Nest's logger setting for the app. Default: warnings and errors only. */
  logger?: LoggerService | LogLevel[] | false;
}

/**
 * A Nest app that is only the gateway server, ready to `listen()`. Body
 * parsing is left to the server (its size limit and error bodies apply), and
 * unknown routes answer FastAPI's `{"detail": "Not Found"}`.
 */
export async function createGatewayServer(
  options: ProvenanceGatewayServerOptions,
  settings: CreateGatewayServerOptions = {},
): Promise<INestApplication> {
  const module = ProvenanceGatewayServerModule.forRoot(options);
  const logger = settings.logger ?? (['warn', 'error'] as LogLevel[]);
  let app: INestApplication;
  if (settings.platform === 'fastify') {
    // Loaded only when asked for: Fastify is an optional peer.
    const { FastifyAdapter } = await import('@nestjs/platform-fastify');
    const adapter = new FastifyAdapter({
      // `GET /v1/escalations/` (the reference path) and `/v1/escalations` alike.
      routerOptions: { ignoreTrailingSlash: true },
      bodyLimit: (options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES) + 1,
    });
    const fastify = adapter.getInstance();
    // Leave every body unread: the server reads it under its own limit and answers its own errors.
    fastify.removeAllContentTypeParsers();
    // Named as well as caught by '*': Fastify caches the parser of a named type, so the usual
    // `application/json` is not parsed as a media type on every request.
    for (const type of ['application/json', '*']) {
      fastify.addContentTypeParser(type, (_request, _payload, done) => done(null, undefined));
    }
    app = await NestFactory.create(module, adapter, {
      bodyParser: false,
      logger,
      abortOnError: false,
    });
  } else {
    app = await NestFactory.create(module, { bodyParser: false, logger, abortOnError: false });
    // A security gateway need not advertise its framework to every caller.
    (app.getHttpAdapter().getInstance() as { disable?: (setting: string) => void }).disable?.(
      'x-powered-by',
    );
  }
  app.useGlobalFilters(new WireExceptionFilter(new WireReply(app.get(HttpAdapterHost))));
  return app;
}
