import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { Guarded } from '../../lib';

export interface Payment {
  paymentId: string;
  amount: number;
  currency: string;
  recipientId: string;
  status: 'initiated';
}

/**
 * A stand-in for a payment provider. The body is the tool; `@Guarded` puts
 * it behind the policy, so the body runs only once the gateway said ALLOW,
 * whether that came from a rule or from a human approving an escalation.
 * The audit log records the call as `{ amount, currency, recipientId }`: the
 * arguments by parameter name.
 */
@Injectable()
export class PaymentsService {
  /** Payments that really went out, so callers (and the demo) can tell a blocked call never ran. */
  readonly initiated: Payment[] = [];

  @Guarded('payments.initiate')
  async initiate(amount: number, currency: string, recipientId: string): Promise<Payment> {
    const payment: Payment = {
      paymentId: `pay_${randomUUID().slice(0, 8)}`,
      amount,
      currency,
      recipientId,
      status: 'initiated',
    };
    this.initiated.push(payment);
    return payment;
  }
}
