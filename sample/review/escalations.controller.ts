import {
  BadRequestException,
  Body,
  Controller,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  Post,
  Sse,
  type BeforeApplicationShutdown,
  type MessageEvent,
} from '@nestjs/common';
import { Observable, Subject, map, takeUntil } from 'rxjs';
import {
  EscalationNotFoundError,
  ProvenanceReviewer,
  type EscalationRecord,
  type ReviewOutcome,
} from '../../lib';

interface DecisionBody {
  approverId?: unknown;
  reason?: unknown;
}

/** The review API the page at /review uses; a reviewer with curl can use it too. */
@Controller('escalations')
export class EscalationsController implements BeforeApplicationShutdown {
  // Ends every open stream before the HTTP server closes, so shutdown does
  // not wait on browsers that keep an EventSource open.
  private readonly shutdown$ = new Subject<void>();

  constructor(private readonly reviewer: ProvenanceReviewer) {}

  /**
   * Server-Sent Events, one per escalation step (`pending`, then `approved`,
   * `rejected` or `expired`), each named after its step and carrying the
   * EscalationEvent as JSON. A subscriber that arrives late first gets the
   * escalations still pending, so a page opened mid-way shows them too.
   */
  @Sse('stream')
  stream(): Observable<MessageEvent> {
    // reviewer.escalations$ is gateway.escalations$ with the still-pending ones first.
    return this.reviewer.escalations$.pipe(
      map((event) => ({
        type: event.type,
        id: `${event.escalationId}:${event.type}`,
        data: event,
      })),
      takeUntil(this.shutdown$),
    );
  }

  @Get('pending')
  pending(): Promise<EscalationRecord[]> {
    return this.reviewer.pending();
  }

  @Post(':id/approve')
  @HttpCode(200)
  approve(@Param('id') id: string, @Body() body: DecisionBody): Promise<ReviewOutcome> {
    return this.decide(() => this.reviewer.approve(id, reviewInput(body)));
  }

  @Post(':id/reject')
  @HttpCode(200)
  reject(@Param('id') id: string, @Body() body: DecisionBody): Promise<ReviewOutcome> {
    return this.decide(() => this.reviewer.reject(id, reviewInput(body)));
  }

  beforeApplicationShutdown(): void {
    this.shutdown$.next();
    this.shutdown$.complete();
  }

  private async decide(review: () => Promise<ReviewOutcome>): Promise<ReviewOutcome> {
    try {
      return await review();
    } catch (error) {
      // Unknown, or already decided or expired: the reviewer's click came too late.
      if (error instanceof EscalationNotFoundError) throw new NotFoundException(error.message);
      throw error;
    }
  }
}

/** A decision must name who made it: the audit log records the approver. */
function reviewInput(body: DecisionBody | undefined): {
  approverId: string;
  reason: string | null;
} {
  const approverId = body?.approverId;
  if (typeof approverId !== 'string' || approverId.trim() === '') {
    throw new BadRequestException(
      'Body must name the reviewer: { "approverId": "alice", "reason": "..." }',
    );
  }
  const reason = body?.reason;
  if (reason !== undefined && reason !== null && typeof reason !== 'string') {
    throw new BadRequestException('reason must be a string');
  }
  return { approverId: approverId.trim(), reason: reason ?? null };
}
