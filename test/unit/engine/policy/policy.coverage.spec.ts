import { compilePolicy } from '../../../../lib/engine/policy/policy.compiler';
import {
  isCatchAllRuleGlob,
  uncoveredActions,
} from '../../../../lib/engine/policy/policy.coverage';
import type { PolicyDocument } from '../../../../lib/engine/policy/policy.types';

const policy: PolicyDocument = {
  name: 'coverage',
  rules: [
    {
      action: 'payments.initiate',
      conditions: [{ field: 'amount', operator: '<=', value: 100 }],
      on_violation: 'ESCALATE',
    },
    { action: 'crm.*', on_match: 'ALLOW' },
    { action: 'data.?ead', on_match: 'BLOCK' },
    { action: '*', on_match: 'ESCALATE' },
  ],
};

describe('isCatchAllRuleGlob', () => {
  it.each(['*', '**', '?*', '*?', '*?*', '**?**', '*[!z-a]'])('%s matches every action', (glob) => {
    expect(isCatchAllRuleGlob(glob)).toBe(true);
  });

  it.each(['?', '??*', '*.*', 'a*', '*a', 'payments.*', '[!a]*', '[a-z]*', '', '*x*'])(
    '%s leaves some action out',
    (glob) => {
      expect(isCatchAllRuleGlob(glob)).toBe(false);
    },
  );
});

describe('uncoveredActions', () => {
  it('passes actions that a specific rule matches, whatever its conditions', () => {
    expect(
      uncoveredActions(policy, ['payments.initiate', 'crm.contacts.export', 'data.read']),
    ).toEqual([]);
  });

  it('names the actions only a catch-all matches, with that rule', () => {
    expect(uncoveredActions(policy, ['email.send', 'payments.refund'])).toEqual([
      { action: 'email.send', fallsTo: 'catch-all', ruleIndex: 3 },
      { action: 'payments.refund', fallsTo: 'catch-all', ruleIndex: 3 },
    ]);
  });

  it('names the actions no rule matches as falling to the default', () => {
    const noCatchAll: PolicyDocument = { ...policy, rules: policy.rules.slice(0, 3) };
    expect(uncoveredActions(noCatchAll, ['email.send', 'crm.x', 'data.reads'])).toEqual([
      { action: 'email.send', fallsTo: 'default', ruleIndex: null },
      { action: 'data.reads', fallsTo: 'default', ruleIndex: null },
    ]);
  });

  it('reads a compiled policy the same as its document, and lists each action once', () => {
    const compiled = compilePolicy(policy);
    const actions = ['b.x', 'a.x', 'b.x', 'crm.y'];
    expect(uncoveredActions(compiled, actions)).toEqual(uncoveredActions(policy, actions));
    expect(uncoveredActions(compiled, actions).map((u) => u.action)).toEqual(['b.x', 'a.x']);
  });

  it('counts a broad but not catch-all glob as coverage', () => {
    const broad: PolicyDocument = { name: 'broad', rules: [{ action: '*.*', on_match: 'ALLOW' }] };
    expect(uncoveredActions(broad, ['payments.initiate', 'ping'])).toEqual([
      { action: 'ping', fallsTo: 'default', ruleIndex: null },
    ]);
  });
});
