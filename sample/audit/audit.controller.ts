import { BadRequestException, Controller, Get, Query } from '@nestjs/common';
import {
  ProvenanceGateway,
  type AuditEvent,
  type AuditReader,
  type AuditVerification,
} from '../../lib';

/**
 * Read-only views of the gateway's hash-chained audit log: the embedded
 * engine's, or a remote gateway's through its audit API (the same shapes).
 */
@Controller('audit')
export class AuditController {
  constructor(private readonly gateway: ProvenanceGateway) {}

  /** The events of one session, oldest first: `GET /audit?session=sess_...`. */
  @Get()
  async list(
    @Query('session') session?: string,
  ): Promise<{ sessionId: string; events: AuditEvent[] }> {
    if (typeof session !== 'string' || session === '') {
      throw new BadRequestException('Name a session: GET /audit?session=sess_...');
    }
    const events = await this.log().list({ sessionId: session });
    return { sessionId: session, events };
  }

  /** Re-reads the whole log and checks every hash; names the first broken position. */
  @Get('verify')
  verify(): Promise<AuditVerification> {
    return this.log().verify();
  }

  private log(): AuditReader {
    return this.gateway.audit;
  }
}
