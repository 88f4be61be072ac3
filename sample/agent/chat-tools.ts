import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { tool } from 'ai';
import { z } from 'zod';
import { ProvenanceGateway } from '../../lib';
import { provenanceTools, toolDecisionOf } from '../../lib/adapters/ai';
import type { DeletedRow } from '../tools/data.service';
import type { SentEmail } from '../tools/email.service';
import type { Payment } from '../tools/payments.service';

/** LLM tool names cannot hold dots: each AI SDK tool is one of the policy's actions. */
export const CHAT_TOOL_ACTIONS = {
  payments_initiate: 'payments.initiate',
  data_delete: 'data.delete',
  email_send: 'email.send',
} as const;

/** A payment the chat agent made, with the reviewer who approved it when one had to. */
export interface ChatPayment extends Payment {
  approvedBy: string | null;
}

/**
 * The chat agent's tools, as AI SDK tools gated by `provenanceTools`: the
 * policy decides each call from the tool's input before its `execute` runs.
 *
 * Their bodies do the work themselves rather than call the @Guarded
 * services: a gated tool calling a @Guarded method would have the same call
 * decided twice (and a big payment held for a reviewer twice). One gate per
 * call: here it is the adapter's. The lists below are what really ran.
 */
@Injectable()
export class ChatTools {
  readonly payments: ChatPayment[] = [];
  readonly deleted: DeletedRow[] = [];
  readonly sent: SentEmail[] = [];

  constructor(private readonly gateway: ProvenanceGateway) {}

  /** The gated tool set, for one `generateText` run in the current request's session. */
  tools() {
    return provenanceTools(
      this.gateway,
      {
        payments_initiate: tool({
          description: 'Pay a recipient',
          inputSchema: z.object({
            amount: z.number(),
            currency: z.string(),
            recipientId: z.string(),
          }),
          execute: async (input, options): Promise<ChatPayment> => {
            const payment: ChatPayment = {
              paymentId: `pay_${randomUUID().slice(0, 8)}`,
              ...input,
              status: 'initiated',
              approvedBy: toolDecisionOf(options)?.actorHumanId ?? null,
            };
            this.payments.push(payment);
            return payment;
          },
        }),
        data_delete: tool({
          description: 'Delete a stored row',
          inputSchema: z.object({ table: z.string(), id: z.string() }),
          execute: async ({ table, id }): Promise<DeletedRow> => {
            const row: DeletedRow = { table, id, deleted: true };
            this.deleted.push(row);
            return row;
          },
        }),
        email_send: tool({
          description: 'Send an e-mail from a template',
          inputSchema: z.object({ to: z.string(), template: z.string() }),
          execute: async ({ to, template }): Promise<SentEmail> => {
            const email = { messageId: `msg_${randomUUID().slice(0, 8)}`, to, template };
            this.sent.push(email);
            return email;
          },
        }),
      },
      { actions: CHAT_TOOL_ACTIONS },
    );
  }
}
