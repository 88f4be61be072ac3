/** One Server-Sent Event as a browser's EventSource would deliver it. */
export interface SseEvent {
  event: string;
  id: string | null;
  data: string;
}

/**
 * Reads a text/event-stream with fetch and a stream reader (no EventSource
 * in Node), parsing the wire format itself, so the test sees exactly the
 * bytes a browser would. `next()` waits for the first unread event that matches.
 */
export class SseClient {
  private readonly abort = new AbortController();
  private readonly events: SseEvent[] = [];
  private readonly waiters: Array<() => void> = [];
  private buffer = '';
  private ended = false;
  response!: Response;

  static async open(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
    const client = new SseClient();
    client.response = await fetch(url, {
      headers: { Accept: 'text/event-stream', ...headers },
      signal: client.abort.signal,
    });
    if (!client.response.ok || !client.response.body) {
      throw new Error(`SSE ${url} answered ${client.response.status}`);
    }
    void client.pump(client.response.body.getReader());
    return client;
  }

  /** The first not-yet-taken event that matches, waiting up to `timeoutMs`. */
  async next(
    match: (event: SseEvent) => boolean = () => true,
    timeoutMs = 10_000,
  ): Promise<SseEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.events.findIndex(match);
      if (index >= 0) return this.events.splice(index, 1)[0];
      if (this.ended) throw new Error('SSE stream ended before a matching event arrived');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('No matching SSE event in time');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Events received and not yet taken by next(). */
  get unread(): readonly SseEvent[] {
    return this.events;
  }

  close(): void {
    this.abort.abort();
  }

  private async pump(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        this.buffer += decoder.decode(value, { stream: true });
        this.parse();
      }
    } catch {
      // Aborted by close(), or the server went away: either way the stream is over.
    }
    this.ended = true;
    this.wake();
  }

  private parse(): void {
    // Events are separated by a blank line; fields are "name: value" lines.
    let end: number;
    while ((end = this.buffer.search(/\r?\n\r?\n/)) >= 0) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end).replace(/^\r?\n\r?\n/, '');
      const event: SseEvent = { event: 'message', id: null, data: '' };
      const data: string[] = [];
      for (const line of block.split(/\r?\n/)) {
        if (line === '' || line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'event') event.event = value;
        else if (field === 'id') event.id = value;
        else if (field === 'data') data.push(value);
      }
      if (data.length === 0) continue;
      event.data = data.join('\n');
      this.events.push(event);
    }
    this.wake();
  }

  private wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }
}
