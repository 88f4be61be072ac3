/*
 * The style of the review page (review-page.html.ts), inline in its <style>
 * and allowed by the page's CSP by its sha256: any change here changes the
 * hash, which review-page.html.ts computes from this very string.
 */
export const REVIEW_PAGE_STYLE = String.raw`
      :root {
        --ink: #1d2330;
        --muted: #667085;
        --line: #e4e7ec;
        --bg: #f6f7f9;
        --card: #fff;
        --allow: #157f3b;
        --block: #b42318;
        --wait: #b54708;
      }
      * {
        box-sizing: border-box;
      }
      body {
        margin: 0;
        font:
          15px/1.45 system-ui,
          -apple-system,
          'Segoe UI',
          Roboto,
          sans-serif;
        color: var(--ink);
        background: var(--bg);
      }
      header {
        display: flex;
        flex-wrap: wrap;
        gap: 12px 24px;
        align-items: center;
        justify-content: space-between;
        padding: 16px 24px;
        background: var(--card);
        border-bottom: 1px solid var(--line);
      }
      h1 {
        margin: 0;
        font-size: 18px;
      }
      h2 {
        margin: 24px 0 12px;
        font-size: 15px;
        color: var(--muted);
        text-transform: uppercase;
        letter-spacing: 0.04em;
      }
      main {
        max-width: 880px;
        margin: 0 auto;
        padding: 0 24px 48px;
      }
      .who {
        font-size: 13px;
        color: var(--muted);
      }
      .who strong {
        color: var(--ink);
      }
      input {
        font: inherit;
        padding: 6px 10px;
        border: 1px solid var(--line);
        border-radius: 6px;
      }
      .status {
        font-size: 13px;
        color: var(--muted);
      }
      .status::before {
        content: '';
        display: inline-block;
        width: 8px;
        height: 8px;
        margin-right: 6px;
        border-radius: 50%;
        background: var(--block);
      }
      .status[data-live='true']::before {
        background: var(--allow);
      }
      .card {
        background: var(--card);
        border: 1px solid var(--line);
        border-left: 4px solid var(--wait);
        border-radius: 8px;
        padding: 14px 16px;
        margin-bottom: 12px;
      }
      .card h3 {
        margin: 0 0 4px;
        font-size: 16px;
        font-family: ui-monospace, SFMono-Regular, Menlo, monospace;
      }
      .signin {
        margin-top: 24px;
        border-left-color: var(--block);
      }
      .why {
        margin: 0 0 8px;
      }
      .meta {
        font-size: 12px;
        color: var(--muted);
        word-break: break-all;
      }
      pre {
        margin: 8px 0;
        padding: 8px 10px;
        background: var(--bg);
        border-radius: 6px;
        font-size: 13px;
        overflow-x: auto;
      }
      .actions {
        display: flex;
        flex-wrap: wrap;
        gap: 8px;
        align-items: center;
      }
      .actions input {
        flex: 1 1 220px;
      }
      button {
        font: inherit;
        font-weight: 600;
        padding: 6px 16px;
        border: 0;
        border-radius: 6px;
        color: #fff;
        cursor: pointer;
        background: var(--ink);
      }
      button.approve {
        background: var(--allow);
      }
      button.reject {
        background: var(--block);
      }
      button.quiet {
        padding: 2px 10px;
        font-weight: 400;
        color: var(--muted);
        background: transparent;
        border: 1px solid var(--line);
      }
      button:disabled {
        opacity: 0.5;
        cursor: wait;
      }
      .empty {
        color: var(--muted);
      }
      .error {
        color: var(--block);
        font-size: 13px;
      }
      ol.history {
        padding-left: 20px;
        margin: 0;
      }
      ol.history li {
        margin-bottom: 6px;
      }
      .approved {
        color: var(--allow);
        font-weight: 600;
      }
      .rejected,
      .expired,
      .withdrawn {
        color: var(--block);
        font-weight: 600;
      }
`;
