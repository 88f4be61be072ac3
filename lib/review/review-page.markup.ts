/** The body of the review page (review-page.html.ts): the elements its script fills in. */
export const REVIEW_PAGE_BODY = String.raw`
    <header>
      <h1>Escalations waiting for a human</h1>
      <span class="who">
        Signed in as <strong data-testid="signed-in-as">…</strong>
        <button type="button" class="quiet" data-testid="sign-out" hidden>Sign out</button>
      </span>
      <span class="status" data-testid="stream-status" data-live="false">connecting…</span>
    </header>
    <main>
      <section class="card signin" id="signin" data-testid="signin" hidden>
        <p class="error" data-testid="auth-error"></p>
        <form id="token-form" class="actions">
          <input
            type="password"
            data-testid="token-input"
            placeholder="Reviewer token"
            autocomplete="off"
            aria-label="Reviewer token"
          />
          <button type="submit" data-testid="token-submit">Sign in</button>
        </form>
      </section>
      <h2>Pending</h2>
      <div id="pending" data-testid="pending-list">
        <p class="empty" data-testid="pending-empty">
          Nothing is waiting. Held agent calls appear here as they happen.
        </p>
      </div>
      <h2>Decided</h2>
      <ol class="history" id="history" data-testid="history-list"></ol>
    </main>
`;
