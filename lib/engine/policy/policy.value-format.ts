/**
 * Prints a JSON value as Python's `str()` does, because the reference engine
 * builds `Condition failed: <field> <op> <value> failed (got <actual>)` with an
 * f-string and clients match on that text:
 * - a string prints bare at the top level, and as `repr` (quoted) inside a list or dict;
 * - null/undefined → `None`, booleans → `True`/`False`;
 * - lists `['GBP', 'USD']`, dicts `{'a': 1}` (insertion order);
 * - numbers: an integer-valued number below 1e16 prints as an integer (`500`);
 *   any other number as Python's float repr (`0.5`, `1e-05`, `1e+16`).
 * JavaScript cannot tell `500.0` from `500` once parsed, so a value written
 * `500.0` prints `500` where Python would print `500.0`.
 */
export function formatPythonValue(value: unknown): string {
  return typeof value === 'string' ? value : pythonRepr(value);
}

function pythonRepr(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  switch (typeof value) {
    case 'boolean':
      return value ? 'True' : 'False';
    case 'number':
      return formatNumber(value);
    case 'string':
      return quoteString(value);
    case 'bigint':
      return value.toString();
    case 'object':
      if (Array.isArray(value)) return `[${value.map(pythonRepr).join(', ')}]`;
      return `{${Object.entries(value as Record<string, unknown>)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => `${quoteString(k)}: ${pythonRepr(v)}`)
        .join(', ')}}`;
    default:
      return String(value);
  }
}

function formatNumber(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
  if (Number.isInteger(value) && Math.abs(value) < 1e16)
    return Object.is(value, -0) ? '0' : value.toFixed(0);
  // Python's float repr: the shortest round-trip digits (as JavaScript's),
  // positional when the decimal exponent is in [-4, 16), else d.ddde±XX.
  const [mantissa, exponentText] = value.toExponential().split('e');
  const exponent = Number(exponentText);
  // JavaScript writes this range positionally too, and non-integers always have a '.'.
  if (exponent >= -4 && exponent < 16) return String(value);
  const sign = exponent < 0 ? '-' : '+';
  const digits = String(Math.abs(exponent)).padStart(2, '0');
  return `${mantissa}e${sign}${digits}`;
}

/** Python's str repr: single quotes unless the text has a `'` and no `"`. */
function quoteString(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  let out = quote;
  for (const char of text) {
    const code = char.codePointAt(0) as number;
    if (char === '\\') out += '\\\\';
    else if (char === quote) out += `\\${quote}`;
    else if (char === '\n') out += '\\n';
    else if (char === '\r') out += '\\r';
    else if (char === '\t') out += '\\t';
    else if (code < 0x20 || (code >= 0x7f && code < 0xa0))
      out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += char;
  }
  return out + quote;
}
