import { Injectable } from '@nestjs/common';
import { Guarded } from '../../../../lib';

@Injectable()
export class RefundsService {
  readonly refunded: string[] = [];

  @Guarded('refunds.issue')
  async issue(orderId: string, amount: number): Promise<string> {
    this.refunded.push(orderId);
    return `refunded ${amount} on ${orderId}`;
  }
}
