/** Safe rendering of untrusted values for error messages and logs. */

/**
 * Text that came from a server or a caller, made safe for an error message or a log line: control
 * bytes escaped, length capped. Never throws, whatever the value (bigint, symbol, cyclic object).
 */
export function describeValue(value: unknown, max = 80): string {
  let text: string;
  try {
    if (typeof value === 'string') text = JSON.stringify(value.length > max ? `${value.slice(0, max)}…` : value);
    else if (typeof value === 'bigint') text = `${value}n`;
    else if (typeof value === 'symbol' || typeof value === 'function') text = typeof value;
    else if (value === null || typeof value !== 'object') text = String(value);
    else text = Array.isArray(value) ? `array(${value.length})` : 'object';
  } catch {
    text = typeof value;
  }
  return text.length > max + 10 ? `${text.slice(0, max)}…` : text;
}

/** Server-sent text for a message: printable ASCII kept, everything else escaped, length capped. */
export function serverText(text: string, max = 200): string {
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/[^\x20-\x7e]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}
