import { Module } from '@nestjs/common';
import { DataService } from './data.service';
import { EmailService } from './email.service';
import { PaymentsService } from './payments.service';

/** The agent's tools: plain injectable services whose methods are @Guarded. */
@Module({
  providers: [PaymentsService, EmailService, DataService],
  exports: [PaymentsService, EmailService, DataService],
})
export class ToolsModule {}
