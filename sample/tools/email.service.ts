import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { Guarded } from '../../lib';

export interface SentEmail {
  messageId: string;
  to: string;
  template: string;
}

/** A stand-in for a mailer. The policy allows email, but every send is still decided and audited. */
@Injectable()
export class EmailService {
  readonly sent: SentEmail[] = [];

  @Guarded('email.send')
  async send(to: string, template: string): Promise<SentEmail> {
    const email: SentEmail = { messageId: `msg_${randomUUID().slice(0, 8)}`, to, template };
    this.sent.push(email);
    return email;
  }
}
