/** Small fetch helpers for the sample's JSON endpoints. */
export interface JsonReply<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

export async function getJson<T = any>(
  url: string,
  headers: Record<string, string> = {},
): Promise<JsonReply<T>> {
  const response = await fetch(url, { headers });
  return { status: response.status, headers: response.headers, body: (await response.json()) as T };
}

export async function postJson<T = any>(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<JsonReply<T>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as T };
}

/** The sample's own base URL on loopback (app.getUrl() may say [::1] or localhost). */
export function baseUrl(server: { address(): unknown }): string {
  const address = server.address() as { port: number };
  return `http://127.0.0.1:${address.port}`;
}
