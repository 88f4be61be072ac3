import type { LoggerService } from '@nestjs/common';
import { ProvenanceGateway } from '../../../lib';

function recordingLogger() {
  const lines: Array<[level: string, message: string]> = [];
  const logger: LoggerService = {
    log: (m: string) => lines.push(['log', m]),
    warn: (m: string) => lines.push(['warn', m]),
    error: (m: string) => lines.push(['error', m]),
    debug: (m: string) => lines.push(['debug', m]),
  };
  return { lines, logger };
}

describe('session summaries', () => {
  it('logs a session that gated calls, and only debug-logs one that gated nothing', async () => {
    const { lines, logger } = recordingLogger();
    const gateway = new ProvenanceGateway({
      agentId: 'summary-agent',
      policy: {
        name: 's',
        rules: [
          { action: 'ok.*', on_match: 'ALLOW' },
          { action: '*', on_match: 'BLOCK' },
        ],
      },
      audit: { store: 'memory' },
      logger,
    });
    try {
      await gateway.runInSession('sess_busy', async () => {
        await gateway.execute('ok.one', {});
        await gateway.execute('no.two', {}).catch(() => undefined);
      });
      gateway.runInSession('sess_idle', () => undefined);
    } finally {
      await gateway.close();
    }
    // The first call logs the start-up banner (a gateway without the module), then the summaries.
    expect(lines[0]).toEqual([
      'log',
      expect.stringMatching(/^nestjs-provenance: embedded gateway;/),
    ]);
    expect(lines.slice(1)).toEqual([
      ['log', 'session sess_busy: 2 call(s), 1 allowed, 1 blocked, 0 escalated'],
      ['debug', 'session sess_idle: 0 call(s), 0 allowed, 0 blocked, 0 escalated'],
    ]);
  });
});
