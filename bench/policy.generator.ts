import type { Operator, Outcome, PolicyCondition, PolicyDocument, PolicyRule } from '../lib/engine';

/**
 * Deterministic policies and workloads of any size: the same seed gives the
 * same document and the same calls on every machine, so runs compare.
 *
 * Shape: actions are `svc<N>.<verb><M>` names. About 60 % of the rules name
 * one action literally, 40 % are globs of the kinds people write
 * (`svc3.*`, `svc12.read*`, `svc1?.delete*`, `*.export2`, `svc[0-4]7.*`);
 * 70 % carry one to three conditions on `amount`, `currency`, `region` or
 * `priority` with every operator; the last rule is the catch-all `*` BLOCK.
 */
export interface Call {
  action: string;
  parameters: Record<string, unknown> | null;
}

const VERBS = [
  'read',
  'write',
  'delete',
  'list',
  'create',
  'update',
  'send',
  'approve',
  'export',
  'sync',
];
const CURRENCIES = ['GBP', 'USD', 'EUR', 'JPY', 'CHF', 'SEK'];
const REGIONS = ['eu-west', 'eu-north', 'us-east', 'us-west', 'ap-south'];
const OUTCOMES: Outcome[] = ['ALLOW', 'BLOCK', 'ESCALATE'];

/** mulberry32: tiny, fast, and good enough to pick shapes. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Picker {
  constructor(readonly random: () => number) {}
  int(below: number): number {
    return Math.floor(this.random() * below);
  }
  one<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
  chance(p: number): boolean {
    return this.random() < p;
  }
}

function serviceCount(ruleCount: number): number {
  return Math.max(4, Math.ceil(ruleCount / 20));
}

function literalAction(pick: Picker, services: number): string {
  return `svc${pick.int(services)}.${pick.one(VERBS)}${pick.int(4)}`;
}

function globAction(pick: Picker, services: number): string {
  const s = pick.int(services);
  switch (pick.int(5)) {
    case 0:
      return `svc${s}.*`;
    case 1:
      return `svc${s}.${pick.one(VERBS)}*`;
    case 2:
      return `svc${Math.floor(s / 10) || 1}?.${pick.one(VERBS)}*`;
    case 3:
      return `*.${pick.one(VERBS)}${pick.int(4)}`;
    default:
      return `svc[0-4]${s % 10}.*`;
  }
}

function condition(pick: Picker, index: number): PolicyCondition {
  const name = `c${index}`;
  switch (pick.int(4)) {
    case 0: {
      const operator = pick.one<Operator>(['<', '>', '<=', '>=', '==', '!=']);
      return { name, field: 'amount', operator, value: pick.int(2000) };
    }
    case 1: {
      const operator = pick.one<Operator>(['in', 'not_in']);
      const value = CURRENCIES.filter(() => pick.chance(0.5));
      return { name, field: 'currency', operator, value: value.length > 0 ? value : ['GBP'] };
    }
    case 2: {
      const operator = pick.one<Operator>(['==', '!=', 'in']);
      // `in` with a string value is a substring test: 'eu' in 'eu-west'-style checks.
      const value =
        operator === 'in' ? pick.one(['eu-west eu-north', 'us-east us-west']) : pick.one(REGIONS);
      return { name, field: 'region', operator, value };
    }
    default: {
      const operator = pick.one<Operator>(['>=', '<']);
      return { name, field: 'priority', operator, value: 1 + pick.int(5) };
    }
  }
}

function rule(pick: Picker, services: number, index: number): PolicyRule {
  const action = pick.chance(0.6) ? literalAction(pick, services) : globAction(pick, services);
  const out: PolicyRule = { action };
  if (pick.chance(0.7)) {
    const count = 1 + pick.int(3);
    out.conditions = Array.from({ length: count }, (_, c) => condition(pick, c));
    const shape = pick.int(4);
    if (shape <= 1) out.on_match = pick.one(OUTCOMES);
    else if (shape === 2) out.on_violation = pick.one(OUTCOMES);
    else {
      out.on_match = pick.one(OUTCOMES);
      out.on_violation = pick.one(OUTCOMES);
    }
    // Half the rules leave the reason out: their "Condition failed" text is built per call.
    if (pick.chance(0.5)) out.reason = `generated rule ${index}`;
  } else {
    out.on_match = pick.one(OUTCOMES);
    out.reason = `generated rule ${index}`;
  }
  return out;
}

/** A valid policy of exactly `ruleCount` rules (the last is the catch-all). */
export function generatePolicy(ruleCount: number, seed: number): PolicyDocument {
  const pick = new Picker(seededRandom(seed));
  const services = serviceCount(ruleCount);
  const rules = Array.from({ length: ruleCount - 1 }, (_, index) => rule(pick, services, index));
  rules.push({ action: '*', on_match: 'BLOCK', reason: 'not covered: blocked by default' });
  return { name: `generated-${ruleCount}`, version: String(seed), rules };
}

function parameters(pick: Picker): Record<string, unknown> | null {
  if (pick.chance(0.05)) return null;
  const out: Record<string, unknown> = {};
  // Fields go missing now and then: a missing field reads as null and fails orderings.
  if (pick.chance(0.9)) out.amount = pick.int(2500);
  if (pick.chance(0.9)) out.currency = pick.one(CURRENCIES);
  if (pick.chance(0.8)) out.region = pick.one(REGIONS);
  if (pick.chance(0.7)) out.priority = 1 + pick.int(5);
  out.note = `ticket ${pick.int(100000)}`;
  return out;
}

/**
 * `count` calls against a generated policy: 60 % name an action some literal
 * rule names, 30 % a plausible action that only globs may match, 10 % an
 * action nothing but the catch-all matches. `distinctActions` bounds how many
 * different names occur (the compiler caches per action).
 */
export function generateCalls(policy: PolicyDocument, count: number, seed: number): Call[] {
  const pick = new Picker(seededRandom(seed ^ 0x9e3779b9));
  const services = serviceCount(policy.rules.length);
  const literals = policy.rules.map((r) => r.action).filter((a) => !/[*?[]/.test(a));
  return Array.from({ length: count }, () => {
    const roll = pick.random();
    const action =
      roll < 0.6 && literals.length > 0
        ? pick.one(literals)
        : roll < 0.9
          ? literalAction(pick, services)
          : `other.tool${pick.int(50)}`;
    return { action, parameters: parameters(pick) };
  });
}

/**
 * Calls whose action names are all different (`fresh.<seed>.<i>`): every one
 * misses the compiler's candidate cache, as a stream of untrusted names would.
 */
export function uncachedCalls(count: number, seed: number): Call[] {
  return Array.from({ length: count }, (_, i) => ({
    action: `svc${i % 97}.fresh${seed}x${i}`,
    parameters: { amount: i % 2000, currency: CURRENCIES[i % CURRENCIES.length] },
  }));
}
