import {
  BadRequestException,
  BadGatewayException,
  ForbiddenException,
  HttpException,
  Inject,
  Injectable,
  Logger,
  NotFoundException,
  UnauthorizedException,
  UnsupportedMediaTypeException,
  type BeforeApplicationShutdown,
  type MessageEvent,
  type OnModuleInit,
} from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { Observable, Subject, map, takeUntil } from 'rxjs';
import { ProvenanceReviewer } from '../escalation/provenance.reviewer';
import type { EscalationRecord, ReviewInput, ReviewOutcome } from '../protocol/gateway.types';
import {
  ApprovalForbiddenError,
  EscalationError,
  EscalationNotFoundError,
  GatewayError,
  ProvenanceError,
} from '../protocol/provenance.errors';
import {
  checkAuthOptions,
  type ProvenanceReviewAuthOptions,
  type ReviewAuthorize,
  type ReviewRequest,
} from './review-module.options';
import { PROVENANCE_REVIEW_MODULE_OPTIONS } from './review.constants';
import { ReviewMessages } from './review.messages';

/** The 401 every route answers without a principal: the same whatever the reason, so it tells nothing. */
export function unauthorized(): UnauthorizedException {
  return new UnauthorizedException({
    statusCode: 401,
    error: 'Unauthorized',
    message: ReviewMessages.noPrincipal(),
    missing: 'principal',
  });
}

/**
 * What the review routes do, apart from HTTP: find the reviewer, say who is
 * asking (through the app's `authorize`), and decide as that principal, with
 * each refusal mapped to its status code.
 */
@Injectable()
export class ReviewDesk implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger('ProvenanceReviewModule');
  private readonly authorize: ReviewAuthorize;
  // Ends every open stream before the HTTP server closes, so shutdown does
  // not wait on browsers that keep the stream open.
  private readonly shutdown$ = new Subject<void>();
  private reviewerRef: ProvenanceReviewer | null = null;
  private warnedBadPrincipal = false;

  constructor(
    @Inject(PROVENANCE_REVIEW_MODULE_OPTIONS) options: ProvenanceReviewAuthOptions,
    private readonly moduleRef: ModuleRef,
  ) {
    // A forRootAsync factory's answer is checked here, at start-up.
    this.authorize = checkAuthOptions(options).authorize;
  }

  onModuleInit(): void {
    // ProvenanceModule need not be global: its reviewer is found wherever it is.
    let reviewer: ProvenanceReviewer | undefined;
    try {
      reviewer = this.moduleRef.get(ProvenanceReviewer, { strict: false });
    } catch {
      reviewer = undefined;
    }
    if (!reviewer) throw new ProvenanceError(ReviewMessages.noReviewer());
    this.reviewerRef = reviewer;
  }

  beforeApplicationShutdown(): void {
    this.shutdown$.next();
    this.shutdown$.complete();
  }

  /** The reviewer the request speaks for, or null: no credentials, bad ones, or authorize threw. */
  async principalOf(request: ReviewRequest): Promise<string | null> {
    let principal: unknown;
    try {
      principal = await this.authorize(request);
    } catch (error) {
      const name = error instanceof Error ? error.name : typeof error;
      const message = error instanceof Error ? error.message : '';
      this.logger.debug(ReviewMessages.authorizeThrew(name, message));
      return null;
    }
    if (principal === null || principal === undefined) return null;
    if (typeof principal !== 'string' || principal.trim() === '') {
      if (!this.warnedBadPrincipal) {
        this.warnedBadPrincipal = true;
        this.logger.warn(ReviewMessages.badPrincipal(principal));
      }
      return null;
    }
    return principal;
  }

  /**
   * Server-Sent Events, one per escalation step, each named after its step
   * (`pending`, `approved`, ...) and carrying the EscalationEvent as JSON. A
   * late subscriber first gets the escalations still pending.
   */
  stream(): Observable<MessageEvent> {
    return this.reviewer.escalations$.pipe(
      map((event) => ({
        type: event.type,
        id: `${event.escalationId}:${event.type}`,
        data: event,
      })),
      takeUntil(this.shutdown$),
    );
  }

  async pending(): Promise<EscalationRecord[]> {
    try {
      return await this.reviewer.pending();
    } catch (error) {
      throw this.httpError(error);
    }
  }

  /** Approves or rejects as `principal`; the body may repeat the principal, never name another. */
  async decide(
    verdict: 'approve' | 'reject',
    escalationId: string,
    body: unknown,
    contentType: unknown,
    principal: string,
  ): Promise<ReviewOutcome> {
    const input = decisionInput(body, contentType, principal);
    try {
      return verdict === 'approve'
        ? await this.reviewer.approve(escalationId, input)
        : await this.reviewer.reject(escalationId, input);
    } catch (error) {
      throw this.httpError(error);
    }
  }

  /** A gateway failure is logged in full here; the answer does not describe the gateway's insides. */
  private httpError(error: unknown): unknown {
    if (error instanceof GatewayError) this.logger.warn(error.message);
    return httpError(error);
  }

  private get reviewer(): ProvenanceReviewer {
    if (this.reviewerRef === null) throw new ProvenanceError(ReviewMessages.noReviewer());
    return this.reviewerRef;
  }
}

/**
 * The decision's input from its body. JSON only: a cross-site form can post
 * text/plain or a form body with the app's cookies, but not JSON (that needs
 * a CORS preflight), so cookie-authenticated apps are not open to CSRF here.
 */
function decisionInput(body: unknown, contentType: unknown, principal: string): ReviewInput {
  const type = Array.isArray(contentType) ? contentType[0] : contentType;
  if (typeof type !== 'string' || !/^application\/json\s*(;|$)/i.test(type.trim())) {
    throw new UnsupportedMediaTypeException(ReviewMessages.notJson());
  }
  if (body === undefined || body === null) body = {};
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw new BadRequestException(ReviewMessages.badBody(body));
  }
  const { approverId, reason } = body as { approverId?: unknown; reason?: unknown };
  if (approverId !== undefined) {
    if (typeof approverId !== 'string' || approverId.trim() === '') {
      throw new BadRequestException(ReviewMessages.badApprover(approverId));
    }
    if (approverId !== principal) {
      throw new ForbiddenException(ReviewMessages.notThePrincipal(principal));
    }
  }
  if (reason !== undefined && reason !== null && typeof reason !== 'string') {
    throw new BadRequestException(ReviewMessages.badReason(reason));
  }
  return { approverId: principal, reason: reason ?? null };
}

/** A refused decision as the HTTP answer it deserves; anything unforeseen stays a 500. */
function httpError(error: unknown): unknown {
  if (error instanceof HttpException) return error;
  // Unknown, or already decided or expired: the reviewer's click came too late.
  if (error instanceof EscalationNotFoundError) return new NotFoundException(error.message);
  // Four eyes: the approver is the agent whose call it is. Nothing was decided.
  if (error instanceof ApprovalForbiddenError) return new ForbiddenException(error.message);
  if (error instanceof GatewayError) {
    // A remote gateway refused this app's key (a reviewer key is needed to list or decide).
    if (error.kind === 'status' && error.status === 403) {
      return new ForbiddenException(ReviewMessages.gatewayRefused());
    }
    return new BadGatewayException(ReviewMessages.gatewayFailed());
  }
  // A refused input (bad id, approver, reason, verdict): the reviewer's or the engine's check.
  if (error instanceof EscalationError || error?.constructor === ProvenanceError) {
    return new BadRequestException((error as Error).message);
  }
  return error;
}
