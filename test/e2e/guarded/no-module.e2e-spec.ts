import 'reflect-metadata';
import { Controller, Get, Injectable, Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ProvenanceError } from '../../../lib/protocol/provenance.errors';
import { Guarded } from '../../../lib/guarded/guarded.decorator';

@Injectable()
class ReportsService {
  calls = 0;

  @Guarded('reports.send')
  async send(to: string) {
    this.calls++;
    return `sent to ${to}`;
  }
}

@Controller()
class ReportsController {
  constructor(private readonly reports: ReportsService) {}

  @Get('send')
  send() {
    return this.reports.send('boss');
  }
}

@Module({ controllers: [ReportsController], providers: [ReportsService] })
class AppWithoutProvenance {}

describe('@Guarded in an app that never imported ProvenanceModule', () => {
  let app: INestApplication;

  beforeAll(async () => {
    app = await NestFactory.create(AppWithoutProvenance, { logger: false });
    await app.listen(0, '127.0.0.1');
  });

  afterAll(async () => {
    await app.close();
  });

  it('a direct call throws a ProvenanceError saying so, and the body does not run', async () => {
    const reports = app.get(ReportsService);
    const error = await reports.send('x').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProvenanceError);
    expect((error as Error).message).toMatch(
      /ReportsService\.send is guarded.*no ProvenanceModule/,
    );
    expect(reports.calls).toBe(0);
  });

  it('a request fails (500) rather than running the body unguarded', async () => {
    const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    const res = await fetch(`${url}/send`);
    expect(res.status).toBe(500);
    expect(app.get(ReportsService).calls).toBe(0);
  });
});
