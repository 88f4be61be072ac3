/**
 * A connection string fit to print: the password (and any `password=` query
 * parameter) replaced by `***`. Anything that does not parse as a URL is
 * shown only as `<unparseable connection string>`, since it may hold a secret anywhere.
 */
export function redactConnectionString(connectionString: string): string {
  let url: URL;
  try {
    url = new URL(connectionString);
  } catch {
    return '<unparseable connection string>';
  }
  if (url.password !== '') url.password = '***';
  for (const key of [...url.searchParams.keys()]) {
    if (/^(password|sslpassword|passfile|sslkey)$/i.test(key)) url.searchParams.set(key, '***');
  }
  return url.toString();
}
