import {
  BadRequestException,
  Controller,
  Get,
  NotImplementedException,
  Query,
} from '@nestjs/common';
import { ProvenanceGateway, type AuditEvent, type AuditVerification } from '../../lib';
import { auditReaderOf, type AuditReader } from './audit.reader';

/** Read-only views of the embedded gateway's hash-chained audit log. */
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
    const events = await this.reader().list({ sessionId: session });
    return { sessionId: session, events };
  }

  /** Re-reads the whole log and checks every hash; names the first broken position. */
  @Get('verify')
  verify(): Promise<AuditVerification> {
    return this.reader().verify();
  }

  private reader(): AuditReader {
    const reader = auditReaderOf(this.gateway);
    if (reader === null) {
      throw new NotImplementedException(
        'A remote gateway keeps this audit log: ask it (GET /v1/audit/<tenant>, /v1/audit/integrity/<tenant>)',
      );
    }
    return reader;
  }
}
