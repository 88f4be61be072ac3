import {
  Body,
  Controller,
  Get,
  Header,
  Headers,
  HttpCode,
  Inject,
  Param,
  Post,
  Sse,
  UseGuards,
  type MessageEvent,
  type Type,
} from '@nestjs/common';
import type { Observable } from 'rxjs';
import type { EscalationRecord, ReviewOutcome } from '../protocol/gateway.types';
import { ReviewAuthGuard, ReviewPrincipalParam } from './review-auth.guard';
import { ReviewDesk } from './review-desk';
import { normalizeReviewPath } from './review-module.options';
import { REVIEW_PAGE_CSP, REVIEW_PAGE_HTML } from './review-page.html';

/**
 * The review routes under `path`, as controller classes made for that path
 * (Nest reads a controller's path from its class, so each mount gets its
 * own): the page, then the API and the live stream, which need a principal.
 * Plain Nest routing, so the same on Express and Fastify.
 *
 *   GET  <path>                         the page (public: it holds no data)
 *   GET  <path>/me                      { principal }
 *   GET  <path>/escalations/pending     EscalationRecord[]
 *   GET  <path>/escalations/stream      Server-Sent Events
 *   POST <path>/escalations/:id/approve { reason? , approverId? } → ReviewOutcome
 *   POST <path>/escalations/:id/reject  same
 */
export function mountReviewRoutes(path: unknown): Type[] {
  const at = normalizeReviewPath(path);

  @Controller(at)
  class ProvenanceReviewPageController {
    @Get()
    @Header('Content-Type', 'text/html; charset=utf-8')
    @Header('Content-Security-Policy', REVIEW_PAGE_CSP)
    @Header('X-Frame-Options', 'DENY')
    @Header('X-Content-Type-Options', 'nosniff')
    @Header('Referrer-Policy', 'no-referrer')
    @Header('Cache-Control', 'no-store')
    page(): string {
      return REVIEW_PAGE_HTML;
    }
  }

  @Controller(at)
  @UseGuards(ReviewAuthGuard)
  class ProvenanceReviewApiController {
    constructor(@Inject(ReviewDesk) private readonly desk: ReviewDesk) {}

    @Get('me')
    @Header('Cache-Control', 'no-store')
    me(@ReviewPrincipalParam() principal: string): { principal: string } {
      return { principal };
    }

    @Get('escalations/pending')
    @Header('Cache-Control', 'no-store')
    pending(): Promise<EscalationRecord[]> {
      return this.desk.pending();
    }

    /** One event per escalation step, named after it; the still-pending ones first. */
    @Sse('escalations/stream')
    stream(): Observable<MessageEvent> {
      return this.desk.stream();
    }

    @Post('escalations/:id/approve')
    @HttpCode(200)
    approve(
      @Param('id') id: string,
      @Body() body: unknown,
      @Headers('content-type') contentType: unknown,
      @ReviewPrincipalParam() principal: string,
    ): Promise<ReviewOutcome> {
      return this.desk.decide('approve', id, body, contentType, principal);
    }

    @Post('escalations/:id/reject')
    @HttpCode(200)
    reject(
      @Param('id') id: string,
      @Body() body: unknown,
      @Headers('content-type') contentType: unknown,
      @ReviewPrincipalParam() principal: string,
    ): Promise<ReviewOutcome> {
      return this.desk.decide('reject', id, body, contentType, principal);
    }
  }

  return [ProvenanceReviewPageController, ProvenanceReviewApiController];
}
