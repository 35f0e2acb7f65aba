import type { Serializer } from '../client/values.js';

/** `memcached` 2.2.2's flag numbers. */
const FLAG_STRING = 0;
const FLAG_JSON = 2;
const FLAG_BINARY = 4;
const FLAG_NUMERIC = 8;

const NEEDS_ESCAPE = /[\r\n]/;
const ESCAPED = /\\[\r\n]/;

/** 2.2.2's `escapeValue`: a backslash before every `\r` and `\n`, so no value holds a raw line break. */
export function escapeValue(text: string): string {
  return NEEDS_ESCAPE.test(text) ? text.replace(/(\r|\n)/g, '\\$1') : text;
}

/** 2.2.2's `unescapeValue`: drops the backslash before every `\r` and `\n`. */
export function unescapeValue(text: string): string {
  return ESCAPED.test(text) ? text.replace(/\\(\r|\n)/g, '$1') : text;
}

/**
 * The byte format of `memcached` 2.2.2, so a memcluster client shares items with it:
 *
 * - strings: flag 0; objects, arrays, booleans, null: JSON with flag 2; Buffers: flag 4; numbers: flag 8.
 * - every `\r` and `\n` is written with a backslash before it (the item length counts the
 *   backslashes) and the backslash is removed on read.
 * - Buffers are turned into latin1 text and that text is written as UTF-8, so every byte >= 0x80
 *   takes two bytes on the server; reads undo it (UTF-8 decode, then one byte per character).
 * - reads decode by the exact flag value; any other flag comes back as a UTF-8 string.
 *
 * Use it with the modern API during a rollout: `new Client(servers, { serializer: legacySerializer })`.
 * Like 2.2.2, only `Buffer`s are binary: other typed arrays are stored as JSON.
 */
export const legacySerializer: Serializer = {
  serialize(value: unknown): { data: Buffer; flags: number } {
    let flags = FLAG_STRING;
    let text: string;
    if (Buffer.isBuffer(value)) {
      flags = FLAG_BINARY;
      text = value.toString('latin1');
    } else if (typeof value === 'number') {
      flags = FLAG_NUMERIC;
      text = value.toString();
    } else if (typeof value === 'string') {
      text = value;
    } else {
      flags = FLAG_JSON;
      const json = JSON.stringify(value) as string | undefined;
      if (json === undefined) throw new TypeError(`a value of type ${typeof value} has no JSON form`);
      text = json;
    }
    return { data: Buffer.from(escapeValue(text), 'utf8'), flags };
  },

  deserialize(data: Buffer, flags: number): unknown {
    const text = unescapeValue(data.toString('utf8'));
    switch (flags) {
      case FLAG_JSON:
        return JSON.parse(text);
      case FLAG_NUMERIC:
        return +text;
      case FLAG_BINARY:
        return Buffer.from(text, 'latin1');
      default:
        return text;
    }
  },
};
