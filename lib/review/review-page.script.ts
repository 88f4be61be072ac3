/*
 * The script of the review page (review-page.html.ts), inline in its
 * <script> and allowed by the page's CSP by its sha256, computed from this
 * very string. String.raw keeps every backslash as written; the script uses
 * no backtick and no dollar-brace, so nothing in it is interpolated.
 */
export const REVIEW_PAGE_SCRIPT = String.raw`
      // One live view: the server sends every pending escalation first, then each
      // step as it happens, so this page never polls. All text goes in through
      // textContent: parameters come from an agent and are not trusted. The
      // decisions carry no approver name: the server decides as whoever signed in.
      const TOKEN_KEY = 'provenance-review-token';
      const ENDINGS = ['approved', 'rejected', 'expired', 'withdrawn'];
      // The API lives under the page's own path (whatever prefix the app mounts it at).
      const base = location.pathname.replace(/\/+$/, '');
      const pendingList = document.getElementById('pending');
      const emptyNote = document.querySelector('[data-testid="pending-empty"]');
      const historyList = document.getElementById('history');
      const status = document.querySelector('[data-testid="stream-status"]');
      const who = document.querySelector('[data-testid="signed-in-as"]');
      const signOut = document.querySelector('[data-testid="sign-out"]');
      const signIn = document.getElementById('signin');
      const authError = document.querySelector('[data-testid="auth-error"]');
      const tokenForm = document.getElementById('token-form');
      const tokenInput = document.querySelector('[data-testid="token-input"]');
      const cards = new Map();

      function readToken() {
        try {
          return sessionStorage.getItem(TOKEN_KEY);
        } catch (e) {
          return null;
        }
      }
      function keepToken(value) {
        try {
          if (value) sessionStorage.setItem(TOKEN_KEY, value);
          else sessionStorage.removeItem(TOKEN_KEY);
        } catch (e) {
          // No storage (private mode): the token lives as long as this page.
        }
        memoryToken = value || null;
      }
      let memoryToken = readToken();

      // #token=... : kept for this tab, then taken out of the address bar and history.
      function takeTokenFromHash() {
        const match = /(?:^#|&)token=([^&]*)/.exec(location.hash);
        if (!match) return false;
        keepToken(decodeURIComponent(match[1]));
        history.replaceState(null, '', location.pathname + location.search);
        return true;
      }
      takeTokenFromHash();
      window.addEventListener('hashchange', () => {
        if (takeTokenFromHash()) location.reload();
      });

      function api(path, init) {
        const headers = Object.assign({}, (init && init.headers) || {});
        if (memoryToken) headers.Authorization = 'Bearer ' + memoryToken;
        return fetch(
          base + path,
          Object.assign({ credentials: 'same-origin', cache: 'no-store' }, init || {}, { headers }),
        );
      }

      async function messageOf(response) {
        const body = await response.json().catch(() => ({}));
        return (body && body.message) || 'HTTP ' + response.status;
      }

      function setStatus(live, text) {
        status.dataset.live = live ? 'true' : 'false';
        status.textContent = text;
      }

      // 401 or 403: say so, offer the token field, and stop (no reconnecting with bad credentials).
      let signedOut = false;
      function showSignedOut(code, message) {
        signedOut = true;
        setStatus(false, 'not signed in');
        who.textContent = 'nobody';
        authError.textContent = 'Not signed in (' + code + '): ' + message;
        signIn.hidden = false;
        signOut.hidden = !memoryToken;
        tokenInput.focus();
      }

      tokenForm.addEventListener('submit', (event) => {
        event.preventDefault();
        const value = tokenInput.value.trim();
        if (!value) return;
        keepToken(value);
        location.reload();
      });
      signOut.addEventListener('click', () => {
        keepToken(null);
        location.reload();
      });

      function el(tag, props, children) {
        const node = Object.assign(document.createElement(tag), props || {});
        for (const child of children || []) node.append(child);
        return node;
      }

      function showPending(event) {
        if (cards.has(event.escalationId)) return;
        const id = event.escalationId;
        const reason = el('input', { placeholder: 'Reason (optional)' });
        reason.dataset.testid = 'reason-' + id;
        const error = el('p', { className: 'error' });
        error.dataset.testid = 'error-' + id;
        const approve = el('button', { className: 'approve', textContent: 'Approve' });
        approve.dataset.testid = 'approve-' + id;
        const reject = el('button', { className: 'reject', textContent: 'Reject' });
        reject.dataset.testid = 'reject-' + id;
        const card = el('section', { className: 'card' }, [
          el('h3', { textContent: event.action }),
          el('p', { className: 'why', textContent: event.reason || 'Held by policy' }),
          el('pre', { textContent: JSON.stringify(event.parameters, null, 2) }),
          el('p', {
            className: 'meta',
            textContent:
              'agent ' +
              event.agentId +
              ' · session ' +
              event.sessionId +
              ' · escalation ' +
              id +
              (event.createdAt
                ? ' · held since ' + new Date(event.createdAt).toLocaleTimeString()
                : ''),
          }),
          el('div', { className: 'actions' }, [reason, approve, reject]),
          error,
        ]);
        card.dataset.testid = 'escalation-' + id;
        approve.onclick = () => decide(id, 'approve', reason.value, [approve, reject], error);
        reject.onclick = () => decide(id, 'reject', reason.value, [approve, reject], error);
        cards.set(id, card);
        pendingList.append(card);
        emptyNote.hidden = true;
      }

      function showEnded(event) {
        const card = cards.get(event.escalationId);
        if (card) card.remove();
        cards.delete(event.escalationId);
        emptyNote.hidden = cards.size > 0;
        const by = event.approverId ? ' by ' + event.approverId : '';
        const item = el('li', {}, [
          el('span', { className: event.type, textContent: event.type }),
          ' ' + event.action + by + (event.reason ? ': ' + event.reason : ''),
        ]);
        item.dataset.testid = 'decided-' + event.escalationId;
        historyList.prepend(item);
      }

      async function decide(id, verdict, reason, buttons, error) {
        buttons.forEach((b) => (b.disabled = true));
        error.textContent = '';
        try {
          const response = await api('/escalations/' + encodeURIComponent(id) + '/' + verdict, {
            method: 'POST',
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify({ reason: reason || null }),
          });
          if (response.status === 401) return showSignedOut(401, await messageOf(response));
          if (!response.ok) throw new Error(await messageOf(response));
          // The card goes when the stream reports the end of the escalation.
        } catch (e) {
          error.textContent = 'Could not ' + verdict + ': ' + e.message;
          buttons.forEach((b) => (b.disabled = false));
        }
      }

      // One block of the event stream ("event: pending", "data: {...}"), dispatched by its name.
      function dispatch(block) {
        let type = 'message';
        const data = [];
        for (const line of block.split(/\r?\n/)) {
          if (line === '' || line.startsWith(':')) continue;
          const colon = line.indexOf(':');
          const field = colon < 0 ? line : line.slice(0, colon);
          const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
          if (field === 'event') type = value;
          else if (field === 'data') data.push(value);
        }
        if (data.length === 0) return;
        const event = JSON.parse(data.join('\n'));
        if (type === 'pending') showPending(event);
        else if (ENDINGS.includes(type)) showEnded(event);
      }

      function reconnect() {
        if (signedOut) return;
        setStatus(false, 'reconnecting…');
        setTimeout(connect, 2000);
      }

      // The live stream, read with fetch so that it can carry the Authorization header.
      async function connect() {
        let response;
        try {
          response = await api('/escalations/stream', { headers: { Accept: 'text/event-stream' } });
        } catch (e) {
          return reconnect();
        }
        if (response.status === 401 || response.status === 403) {
          return showSignedOut(response.status, await messageOf(response));
        }
        if (!response.ok || !response.body) return reconnect();
        // After a reconnect the backlog lists what is still pending: start from it.
        for (const card of cards.values()) card.remove();
        cards.clear();
        emptyNote.hidden = false;
        setStatus(true, 'live');
        const reader = response.body.getReader();
        const decoder = new TextDecoder();
        let buffer = '';
        try {
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            buffer += decoder.decode(value, { stream: true });
            let end;
            while ((end = buffer.search(/\r?\n\r?\n/)) >= 0) {
              const block = buffer.slice(0, end);
              buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, '');
              dispatch(block);
            }
          }
        } catch (e) {
          // The connection broke: the server went away or the network did.
        }
        reconnect();
      }

      async function start() {
        setStatus(false, 'signing in…');
        let response;
        try {
          response = await api('/me');
        } catch (e) {
          setStatus(false, 'server unreachable, retrying…');
          return setTimeout(start, 3000);
        }
        if (response.status === 401 || response.status === 403) {
          return showSignedOut(response.status, await messageOf(response));
        }
        if (!response.ok) {
          setStatus(false, 'HTTP ' + response.status + ', retrying…');
          return setTimeout(start, 3000);
        }
        const me = await response.json();
        who.textContent = me.principal;
        signOut.hidden = !memoryToken;
        connect();
      }
      start();
`;
