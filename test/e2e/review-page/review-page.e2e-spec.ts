import type { INestApplication } from '@nestjs/common';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { createSampleApp } from '../../../sample/sample.app';
import { PaymentsService } from '../../../sample/tools/payments.service';
import { CHROMIUM_PATH, describeWithChromium } from '../../fixtures/chromium.fixture';

/**
 * The review page in real headless Chromium: a reviewer signs in with a
 * token, an agent's call escalates, the page shows it live (SSE), a click
 * decides it, and the agent's HTTP call completes with the signed-in
 * reviewer as the approver. Without a token the page says so and the API
 * answers 401; the agent's own identity cannot approve its call. Set REVIEW_PAGE_SCREENSHOT=/some/file.png
 * to keep a picture of the page with an escalation on it. Without Chromium
 * (`apt-get install chromium`) it skips, except with CI set, where it fails.
 */
jest.setTimeout(60_000);

// No outside network on CI: nothing that phones home, no QUIC, no GPU.
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

// The reviewers of this test (token → principal); the last one is the agent's own id.
const REVIEWERS = {
  'page-alice-token': 'alice@example.com',
  'page-bob-token': 'bob',
  'page-agent-token': 'sample-agent',
};

describeWithChromium('review page (headless Chromium)', () => {
  let app: INestApplication;
  let url: string;
  let profile: string;
  let context: BrowserContext;
  let page: Page;

  const runAgent = (amount: number, currency: string, recipientId: string) =>
    fetch(`${url}/agent/run`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        plan: [{ tool: 'payments.initiate', args: { amount, currency, recipientId } }],
      }),
    }).then((response) => response.json() as Promise<{ steps: Array<Record<string, unknown>> }>);

  /** The one escalation card on the page, and its escalation id. */
  const heldCard = async () => {
    const card = page.locator('[data-testid^="escalation-"]');
    await card.waitFor({ state: 'visible', timeout: 15_000 });
    const testId = (await card.getAttribute('data-testid')) as string;
    return { card, id: testId.slice('escalation-'.length) };
  };

  beforeAll(async () => {
    app = await createSampleApp({
      audit: { store: 'memory' },
      escalationTimeout: 45_000,
      reviewers: REVIEWERS,
      logger: false,
    });
    await app.listen(0, '127.0.0.1');
    url = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;

    profile = mkdtempSync(path.join(tmpdir(), 'review-page-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1100, height: 760 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    await signIn('page-alice-token', 'alice@example.com');
    // The token left the address bar (and the history) at once.
    expect(new URL(page.url()).hash).toBe('');
  });

  /** Opens the page with a reviewer token in the address, as a reviewer's link would. */
  const signIn = async (token: string, principal: string) => {
    await page.goto(`${url}/review#token=${token}`);
    await page.locator('[data-testid="stream-status"][data-live="true"]').waitFor();
    expect(await page.getByTestId('signed-in-as').textContent()).toBe(principal);
  };

  afterAll(async () => {
    await context?.close();
    await app?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  it('shows an escalated agent call live; Approve lets it through with the approver in the result', async () => {
    await page.getByTestId('pending-empty').waitFor();
    // Its own style applied (the CSP lets in only the page's own style and script, by hash).
    // (A string: the test is compiled without the DOM's types.)
    expect(await page.evaluate('getComputedStyle(document.body).backgroundColor')).toBe(
      'rgb(246, 247, 249)',
    );

    const agentCall = runAgent(750, 'EUR', 'rec_supplier_7');
    const { card, id } = await heldCard();
    await expect(card.textContent()).resolves.toContain('payments.initiate');
    await expect(card.textContent()).resolves.toContain('Payments over 500 need human approval');
    await expect(card.textContent()).resolves.toContain('rec_supplier_7');
    // Held: the payment has not gone out while the card is on screen.
    expect(app.get(PaymentsService).initiated).toEqual([]);

    if (process.env.REVIEW_PAGE_SCREENSHOT) {
      await page.screenshot({ path: process.env.REVIEW_PAGE_SCREENSHOT, fullPage: true });
    }

    await page.getByTestId(`approve-${id}`).click();

    const report = await agentCall;
    expect(report.steps[0]).toMatchObject({
      outcome: 'allowed',
      decision: 'ALLOW',
      escalationId: id,
      actorHumanId: 'alice@example.com',
      reason: 'Escalation APPROVED by alice@example.com',
      result: { amount: 750, currency: 'EUR', recipientId: 'rec_supplier_7' },
    });
    await page.getByTestId(`decided-${id}`).waitFor();
    expect(await page.getByTestId(`decided-${id}`).textContent()).toContain(
      'approved payments.initiate by alice@example.com',
    );
    await card.waitFor({ state: 'detached' });
  });

  it('Reject blocks the held call, with the reviewer and the reason recorded', async () => {
    // Sign out, and in again as bob through the page's token field.
    await page.getByTestId('sign-out').click();
    await page.getByTestId('auth-error').waitFor();
    await page.getByTestId('token-input').fill('page-bob-token');
    await page.getByTestId('token-submit').click();
    await page.locator('[data-testid="stream-status"][data-live="true"]').waitFor();
    expect(await page.getByTestId('signed-in-as').textContent()).toBe('bob');

    const agentCall = runAgent(100, 'JPY', 'rec_jpy001');
    const { id } = await heldCard();
    await page.getByTestId(`reason-${id}`).fill('JPY not authorised');
    await page.getByTestId(`reject-${id}`).click();

    const report = await agentCall;
    expect(report.steps[0]).toMatchObject({
      outcome: 'rejected',
      decision: 'BLOCK',
      escalationId: id,
      actorHumanId: 'bob',
    });
    await page.getByTestId(`decided-${id}`).waitFor();
    expect(await page.getByTestId(`decided-${id}`).textContent()).toContain('rejected');
    // Only the approved payment of the first test went out.
    expect(app.get(PaymentsService).initiated.map((p) => p.currency)).toEqual(['EUR']);
  });

  it("refuses the agent's own identity approving its call (four eyes); the card says why", async () => {
    await signIn('page-agent-token', 'sample-agent');
    const agentCall = runAgent(900, 'GBP', 'rec_self_approval');
    const { card, id } = await heldCard();
    await page.getByTestId(`approve-${id}`).click();
    // The refusal comes back from the server; the card shows it.
    const error = page.getByTestId(`error-${id}`).filter({ hasText: 'Could not approve' });
    await error.waitFor();
    await expect(error.textContent()).resolves.toMatch(/^Could not approve: .*sample-agent/);
    // Still held, still on screen, nothing paid.
    expect(await card.isVisible()).toBe(true);
    const pending = await fetch(`${url}/review/escalations/pending`, {
      headers: { Authorization: 'Bearer page-bob-token' },
    }).then((r) => r.json() as Promise<Array<{ id: string }>>);
    expect(pending.map((r) => r.id)).toContain(id);
    expect(app.get(PaymentsService).initiated.map((p) => p.recipientId)).not.toContain(
      'rec_self_approval',
    );

    await page.getByTestId(`reject-${id}`).click();
    const report = await agentCall;
    expect(report.steps[0]).toMatchObject({ outcome: 'rejected', decision: 'BLOCK' });
  });

  it('without a token the page says it is not signed in, and the API answers 401', async () => {
    const anonymous = await context.newPage();
    try {
      await anonymous.goto(`${url}/review`);
      const error = anonymous.getByTestId('auth-error');
      await error.waitFor();
      expect(await error.textContent()).toMatch(/^Not signed in \(401\): No reviewer principal/);
      expect(await anonymous.getByTestId('signed-in-as').textContent()).toBe('nobody');
      expect(await anonymous.getByTestId('stream-status').getAttribute('data-live')).toBe('false');
      await anonymous.getByTestId('token-input').waitFor();

      for (const route of [
        '/review/me',
        '/review/escalations/pending',
        '/review/escalations/stream',
      ]) {
        const reply = await fetch(`${url}${route}`);
        expect([route, reply.status]).toEqual([route, 401]);
      }
      // A wrong token is no better.
      await anonymous.goto(`${url}/review#token=not-a-reviewer`);
      // Signed out again, now with a token to sign out of.
      await anonymous.getByTestId('sign-out').waitFor();
      expect(await anonymous.getByTestId('auth-error').textContent()).toContain('401');
    } finally {
      await anonymous.close();
    }
  });
});
