/**
 * A webhook URL as a log line or an error may show it: no user, password,
 * query or fragment (any of which may carry a token).
 */
export function redactUrl(text: string): string {
  try {
    const url = new URL(text);
    const credentials = url.username !== '' || url.password !== '';
    const query = url.search !== '';
    url.username = '';
    url.password = '';
    url.search = '';
    url.hash = '';
    let shown = url.toString();
    if (credentials) shown = shown.replace('://', '://***@');
    return query ? `${shown}?***` : shown;
  } catch {
    return '(not a URL)';
  }
}
