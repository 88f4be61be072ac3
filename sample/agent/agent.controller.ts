import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { parsePlan } from './agent-plan';
import type { AgentRunReport } from './agent-run.report';
import { AgentRunner } from './agent.runner';

@Controller('agent')
export class AgentController {
  constructor(private readonly runner: AgentRunner) {}

  /**
   * Runs a plan of tool calls inside this request's session. A step that
   * escalates holds the request until a reviewer decides (or the hold
   * expires), exactly as the agent's own call would wait.
   */
  @Post('run')
  @HttpCode(200)
  run(@Body() body: unknown): Promise<AgentRunReport> {
    return this.runner.run(parsePlan(body));
  }
}
