import { BadRequestException, Body, Controller, HttpCode, Post, Res } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import type { AgentChatReport } from './agent-chat.report';
import { parsePlan } from './agent-plan';
import type { AgentRunReport } from './agent-run.report';
import { AgentRunner } from './agent.runner';
import { ChatAgent } from './chat.agent';

/** The prompt when the body gives none: the scripted model follows its script whatever it is told. */
const DEFAULT_CHAT_PROMPT = 'Pay the two suppliers and tidy up the customer table.';

@Controller('agent')
export class AgentController {
  constructor(
    private readonly runner: AgentRunner,
    private readonly chatAgent: ChatAgent,
  ) {}

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

  /**
   * Runs an LLM loop (the AI SDK's generateText over the sample's scripted
   * model) whose tool calls are gated, in this request's session. A held call
   * holds the request; the client going away withdraws it.
   */
  @Post('chat')
  @HttpCode(200)
  chat(
    @Body() body: unknown,
    @Res({ passthrough: true }) res: ServerResponse,
  ): Promise<AgentChatReport> {
    const prompt = (body as { prompt?: unknown } | null)?.prompt ?? DEFAULT_CHAT_PROMPT;
    if (typeof prompt !== 'string' || prompt.trim() === '') {
      throw new BadRequestException('Expected a body { "prompt": "..." } (or none)');
    }
    const aborted = new AbortController();
    res.on('close', () => res.writableEnded || aborted.abort());
    return this.chatAgent.chat(prompt, aborted.signal);
  }
}
