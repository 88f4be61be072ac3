import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { generateSigningKeyPair } from '../../lib/engine/audit/audit-signing';
import { PLATFORMS, call, startServer } from '../e2e/server/server.helpers';
import { runCliProcess } from './security.helpers';

/**
 * The gateway server signs checkpoints of each tenant's log when given
 * `audit.signingKey`, so `provenance audit verify --public-key` detects a
 * rewrite of what it served (the rewrite attacks themselves are pinned in
 * audit-signed-checkpoints.e2e-spec.ts, against the same engine).
 */
describe.each(PLATFORMS)('the gateway server signs its audit checkpoints (%s)', (platform) => {
  it('writes signed checkpoints that verify with the public key, and are required when asked', async () => {
    const keys = generateSigningKeyPair();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'provenance-signed-'));
    const logs = path.join(dir, 'logs');
    const server = await startServer(platform, {
      audit: { store: 'file', dir: logs, durable: false, signingKey: keys.privateKeyPem },
    });
    const file = path.join(logs, `${server.tenantId}.audit.jsonl`);
    const publicKey = path.join(dir, 'key.pub.pem');
    fs.writeFileSync(publicKey, keys.publicKeyPem);
    const copy = path.join(dir, 'copy.jsonl');
    try {
      for (const amount of [10, 20, 30]) {
        const answer = await call(server, 'POST', '/v1/gateway/execute', {
          session_id: 'sess_s',
          agent_id: 'agent-1',
          action: 'payments.initiate',
          parameters: { amount },
          decision: 'BLOCK',
        });
        expect(answer.status).toBe(200);
      }
      await server.app.close(); // a signed `close` checkpoint
      fs.copyFileSync(file, copy);
      fs.copyFileSync(`${file}.checkpoints`, `${copy}.checkpoints`);
      expect(
        fs.readFileSync(`${file}.checkpoints`, 'utf8').trim().split('\n').length,
      ).toBeGreaterThan(0);
      const signed = runCliProcess([
        'audit',
        'verify',
        copy,
        '--public-key',
        publicKey,
        '--require-checkpoints',
      ]);
      expect(signed.status).toBe(0);
      // Without its checkpoints the same log no longer proves anything to a verifier that requires them.
      fs.rmSync(`${copy}.checkpoints`);
      expect(
        runCliProcess(['audit', 'verify', copy, '--public-key', publicKey, '--require-checkpoints'])
          .status,
      ).toBe(1);
    } finally {
      await server.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
