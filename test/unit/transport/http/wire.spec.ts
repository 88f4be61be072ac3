import {
  WireFormatError,
  fromWireDecideResponse,
  fromWireEscalationAccepted,
  fromWireEscalationList,
  fromWireResponse,
  toWireEscalationRecord,
  toWireRequest,
  toWireResponse,
} from '../../../../lib/protocol/wire';

const answer = {
  event_id: 'e1',
  decision: 'ALLOW',
  reason: 'ok',
  escalation_id: null,
  actor_human_id: null,
};

describe('wire mapping (docs/protocol.md)', () => {
  describe('toWireRequest', () => {
    it('snake_cases the fields and leaves optional ones out when absent', () => {
      expect(
        toWireRequest({
          sessionId: 's',
          agentId: 'a',
          action: 'x.y',
          parameters: { k: 1 },
          decision: 'BLOCK',
        }),
      ).toEqual({
        session_id: 's',
        agent_id: 'a',
        action: 'x.y',
        parameters: { k: 1 },
        decision: 'BLOCK',
      });
    });

    it('sends tenant_policy_id and idempotency_key when given', () => {
      const body = toWireRequest({
        sessionId: 's',
        agentId: 'a',
        action: 'x',
        parameters: null,
        decision: 'ALLOW',
        tenantPolicyId: 'tp',
        idempotencyKey: 'ik',
      });
      expect(body).toEqual({
        session_id: 's',
        agent_id: 'a',
        action: 'x',
        parameters: null,
        decision: 'ALLOW',
        tenant_policy_id: 'tp',
        idempotency_key: 'ik',
      });
    });
  });

  describe('fromWireResponse', () => {
    it('camelCases a valid answer', () => {
      expect(fromWireResponse(answer)).toEqual({
        eventId: 'e1',
        decision: 'ALLOW',
        reason: 'ok',
        escalationId: null,
        actorHumanId: null,
        approverReason: null,
        escalationOutcome: null,
      });
    });

    it("reads our approver_reason, the reviewer's own words", () => {
      expect(
        fromWireResponse({
          ...answer,
          decision: 'BLOCK',
          escalation_id: 'x',
          approver_reason: 'Not now',
        }).approverReason,
      ).toBe('Not now');
    });

    it.each([
      ['ALLOW', 'Escalation APPROVED by alice', 'approved'],
      ['BLOCK', 'Escalation REJECT — action blocked', 'rejected'],
      ['BLOCK', 'Escalation TIMEOUT — action blocked', 'expired'],
      ['BLOCK', 'escalation timeout — action blocked', 'expired'],
      ['BLOCK', 'Escalation WITHDRAWN — the caller stopped waiting; action blocked', 'withdrawn'],
    ])('an escalated %s with reason %p ended %s', (decision, reason, outcome) => {
      expect(
        fromWireResponse({ ...answer, decision, reason, escalation_id: 'x' }).escalationOutcome,
      ).toBe(outcome);
    });

    it('passes ESCALATE through, with no outcome', () => {
      const response = fromWireResponse({ ...answer, decision: 'ESCALATE', escalation_id: 'x' });
      expect(response.decision).toBe('ESCALATE');
      expect(response.escalationOutcome).toBeNull();
    });

    it('reads a null reason as empty and missing ids as null', () => {
      expect(fromWireResponse({ decision: 'BLOCK', reason: null })).toEqual({
        eventId: null,
        decision: 'BLOCK',
        reason: '',
        escalationId: null,
        actorHumanId: null,
        approverReason: null,
        escalationOutcome: null,
      });
    });

    it.each<[string, unknown]>([
      ['no decision', { ...answer, decision: undefined }],
      ['a lowercase decision', { ...answer, decision: 'allow' }],
      ['an unknown word', { ...answer, decision: 'PERMIT' }],
      ['a padded word', { ...answer, decision: 'ALLOW ' }],
      ['a boolean decision', { ...answer, decision: true }],
      ['no reason', { decision: 'ALLOW' }],
      ['a numeric reason', { ...answer, reason: 3 }],
      ['a numeric event_id', { ...answer, event_id: 7 }],
      ['an array', [answer]],
      ['null', null],
      ['a string', 'ALLOW'],
    ])('rejects %s', (_name, body) => {
      expect(() => fromWireResponse(body)).toThrow(WireFormatError);
    });

    it('round-trips through toWireResponse', () => {
      const response = fromWireResponse({ ...answer, escalation_id: 'x', actor_human_id: 'h' });
      expect(toWireResponse(response)).toEqual({
        ...answer,
        escalation_id: 'x',
        actor_human_id: 'h',
      });
    });
  });

  describe('the 202 escalation answer (our extension)', () => {
    it('requires escalation_id and status PENDING', () => {
      expect(fromWireEscalationAccepted({ escalation_id: 'x', status: 'PENDING' })).toEqual({
        escalation_id: 'x',
        status: 'PENDING',
        expires_at: null,
      });
      expect(() => fromWireEscalationAccepted({ status: 'PENDING' })).toThrow(WireFormatError);
      expect(() => fromWireEscalationAccepted({ escalation_id: 'x', status: 'APPROVED' })).toThrow(
        WireFormatError,
      );
    });

    it('keeps the optional details', () => {
      const body = {
        escalation_id: 'x',
        status: 'PENDING',
        action: 'a',
        reason: 'r',
        created_at: '2025-01-01T00:00:00Z',
        expires_at: '2025-01-01T00:01:00Z',
      };
      expect(fromWireEscalationAccepted(body)).toEqual(body);
    });
  });

  describe('escalation records', () => {
    const wire = {
      id: 'e',
      tenant_id: 't',
      agent_id: 'a',
      action: 'x',
      parameters_hash: 'h',
      status: 'PENDING',
      approver_id: null,
      decided_at: null,
      reason: null,
      created_at: 'c',
      updated_at: 'u',
    };

    it('camelCases the list and maps back', () => {
      const [record] = fromWireEscalationList({ escalations: [wire] });
      expect(record).toEqual({
        id: 'e',
        tenantId: 't',
        agentId: 'a',
        action: 'x',
        parametersHash: 'h',
        status: 'PENDING',
        approverId: null,
        decidedAt: null,
        reason: null,
        createdAt: 'c',
        updatedAt: 'u',
      });
      expect(toWireEscalationRecord(record)).toEqual(wire);
    });

    it('rejects an unknown status or a missing list', () => {
      expect(() =>
        fromWireEscalationList({ escalations: [{ ...wire, status: 'pending' }] }),
      ).toThrow(WireFormatError);
      expect(() => fromWireEscalationList({ items: [] })).toThrow(WireFormatError);
    });
  });

  describe('decide answers', () => {
    it('maps the answer and refuses one that contradicts what was sent', () => {
      const body = { escalation_id: 'e', decision: 'REJECT', approver_id: 'bob', reason: null };
      expect(fromWireDecideResponse(body, { escalationId: 'e', verdict: 'REJECT' })).toEqual({
        escalationId: 'e',
        decision: 'REJECT',
        approverId: 'bob',
        reason: null,
      });
      expect(() => fromWireDecideResponse(body, { escalationId: 'e', verdict: 'APPROVE' })).toThrow(
        WireFormatError,
      );
    });
  });
});
