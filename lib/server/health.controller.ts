import { Controller, Get, HttpCode } from '@nestjs/common';

/** `GET /health`, unauthenticated, as the reference server. */
@Controller('health')
export class GatewayHealthController {
  @Get()
  @HttpCode(200)
  health(): { status: 'ok' } {
    return { status: 'ok' };
  }
}
