import { BadRequestException } from '@nestjs/common';

/** One tool call an agent decided to make: `{ tool: 'payments.initiate', args: { amount: 50, ... } }`. */
export interface PlanStep {
  tool: string;
  args: Record<string, unknown>;
}

/** The body of `POST /agent/run`: what an LLM would have produced as its tool calls. */
export interface AgentPlan {
  plan: PlanStep[];
}

/** Enough for any demo, few enough that one request cannot hold the server for long. */
export const MAX_PLAN_STEPS = 20;

/**
 * Checks the shape of a plan. Only the shape: whether a step may run is the
 * policy's business, so an unknown tool or an odd argument is not refused here
 * (the gateway decides, and the audit log records the attempt).
 */
export function parsePlan(body: unknown): AgentPlan {
  const plan = (body as { plan?: unknown } | null)?.plan;
  if (!Array.isArray(plan) || plan.length === 0) {
    throw new BadRequestException('Expected a body { "plan": [{ "tool": "...", "args": {...} }] }');
  }
  if (plan.length > MAX_PLAN_STEPS) {
    throw new BadRequestException(`A plan has at most ${MAX_PLAN_STEPS} steps`);
  }
  return {
    plan: plan.map((step: unknown, index) => {
      const { tool, args } = (step ?? {}) as { tool?: unknown; args?: unknown };
      if (typeof tool !== 'string' || tool.trim() === '') {
        throw new BadRequestException(
          `plan[${index}].tool must be a tool name such as "email.send"`,
        );
      }
      if (
        args !== undefined &&
        (args === null || typeof args !== 'object' || Array.isArray(args))
      ) {
        throw new BadRequestException(`plan[${index}].args must be an object`);
      }
      return { tool, args: (args ?? {}) as Record<string, unknown> };
    }),
  };
}
