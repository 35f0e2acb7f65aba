import { DecodeError, InvalidValueError } from '../errors.js';
import type { Hit } from '../protocol/hit.js';
import { latin1Of, utf8Of } from '../protocol/slices.js';

/** Turns values into item bytes + flags and back. Supply your own for another format. */
export interface Serializer {
  /** Throw (any error) for a value you cannot store; memcluster reports it as `InvalidValueError`. */
  serialize(value: unknown): { data: Buffer; flags: number };
  /** `data` may be a view of a socket buffer: copy it if you keep it. */
  deserialize(data: Buffer, flags: number): unknown;
}

/** The flag numbers `memcached` 2.2.2 uses, so items keep their type across both clients. */
export const FLAGS = { STRING: 0, JSON: 2, BUFFER: 4, NUMBER: 8 } as const;

/**
 * The default format: strings as UTF-8 (flag 0), objects/arrays/booleans/null as JSON (2), Buffers
 * byte for byte (4), numbers as decimal text (8). Unlike `memcached` 2.2.2 it writes the exact
 * bytes: no backslash-escaping of CR/LF and no latin1 round trip for Buffers. Unknown flags read
 * back as UTF-8 strings, as 2.2.2 does.
 */
export const defaultSerializer: Serializer = {
  serialize(value) {
    switch (typeof value) {
      case 'string':
        // A lone surrogate would silently come back as U+FFFD: refuse it, as keys do.
        if (!(value as string & { isWellFormed(): boolean }).isWellFormed()) throw new TypeError('string holds a lone UTF-16 surrogate (not valid UTF-8)');
        return { data: Buffer.from(value, 'utf8'), flags: FLAGS.STRING };
      case 'number':
        return { data: Buffer.from(String(value), 'latin1'), flags: FLAGS.NUMBER };
      case 'boolean':
        return { data: Buffer.from(JSON.stringify(value)), flags: FLAGS.JSON };
      case 'object': {
        if (Buffer.isBuffer(value)) return { data: value, flags: FLAGS.BUFFER };
        if (value instanceof Uint8Array) return { data: Buffer.from(value.buffer, value.byteOffset, value.byteLength), flags: FLAGS.BUFFER };
        const text = JSON.stringify(value);
        if (text === undefined) throw new TypeError('value is not JSON-serializable');
        return { data: Buffer.from(text, 'utf8'), flags: FLAGS.JSON };
      }
      default:
        throw new TypeError(`cannot store a value of type ${typeof value}`);
    }
  },
  deserialize(data, flags) {
    return decodeRange(data, 0, data.length, flags);
  },
};

/** The default format's decoding of `buf[start, end)`, with no view of it made first. */
function decodeRange(buf: Buffer, start: number, end: number, flags: number): unknown {
  // utf8Of/latin1Of skip toString's argument handling and encoding lookup (hot in getMulti).
  switch (flags) {
    case FLAGS.JSON:
      return JSON.parse(utf8Of(buf, start, end));
    case FLAGS.BUFFER:
      return Buffer.from(buf.subarray(start, end)); // a copy: `buf` may be a socket buffer
    case FLAGS.NUMBER:
      return Number(latin1Of(buf, start, end));
    default:
      return utf8Of(buf, start, end);
  }
}

/** Serializes with the user's serializer, turning any failure into `InvalidValueError`. */
export function encodeValue(serializer: Serializer, value: unknown, key: string, maxValueBytes: number): { data: Buffer; flags: number } {
  if (value === undefined) throw new InvalidValueError(`cannot store undefined (key ${key}); use delete() to remove a key`);
  let out: { data: Buffer; flags: number };
  try {
    out = serializer.serialize(value);
  } catch (err) {
    throw new InvalidValueError(`cannot serialize the value for key ${key}: ${(err as Error).message}`, { cause: err });
  }
  if (!out || !Buffer.isBuffer(out.data) || !Number.isInteger(out.flags) || out.flags < 0 || out.flags > 0xffffffff) {
    throw new InvalidValueError(`serializer returned an invalid item for key ${key} (need { data: Buffer, flags: uint32 })`);
  }
  if (out.data.length > maxValueBytes) {
    throw new InvalidValueError(`value for key ${key} is ${out.data.length} bytes, over maxValueBytes (${maxValueBytes}); nothing was written`);
  }
  return out;
}

/** An item ready for a request: its data block (a string for a text value under the default format), UTF-8 length and flags. */
export interface WireItem {
  data: Buffer | string;
  bytes: number;
  flags: number;
}

/**
 * `encodeValue` for the single-key and multi-key stores: a string under the default serializer
 * stays a string (the request is then one string, joined with the tick's others: no Buffer per
 * value); anything else goes through the serializer as `encodeValue` does, with the same errors.
 */
export function encodeItem(serializer: Serializer, value: unknown, key: string, maxValueBytes: number): WireItem {
  if (typeof value === 'string' && serializer === defaultSerializer) return { data: value, bytes: textBytes(value, key, maxValueBytes), flags: FLAGS.STRING };
  const out = encodeValue(serializer, value, key, maxValueBytes);
  return { data: out.data, bytes: out.data.length, flags: out.flags };
}

/**
 * `decodeValue` for a value the parser read (`Hit`): under the default serializer straight from the chunk
 * the value arrived in (no Buffer view per value); any other serializer gets `hit.data` as usual.
 */
export function decodeHit(serializer: Serializer, hit: Hit, key: string, server: string): unknown {
  if (serializer !== defaultSerializer) return decodeValue(serializer, hit.data, hit.flags, key, server);
  try {
    return decodeRange(hit.buf, hit.start, hit.end, hit.flags);
  } catch (err) {
    throw new DecodeError(`cannot decode item ${key} (flags ${hit.flags}, ${hit.end - hit.start} bytes): ${(err as Error).message}`, { server, cause: err });
  }
}

/**
 * The UTF-8 length of a text value stored by the default serializer (flags 0), after the checks
 * `encodeValue` makes for it: well-formed UTF-16 (a lone surrogate would come back as U+FFFD) and
 * within `maxValueBytes`. Throws `InvalidValueError` with the same messages.
 */
export function textBytes(value: string, key: string, maxValueBytes: number): number {
  if (!(value as string & { isWellFormed(): boolean }).isWellFormed()) {
    const cause = new TypeError('string holds a lone UTF-16 surrogate (not valid UTF-8)');
    throw new InvalidValueError(`cannot serialize the value for key ${key}: ${cause.message}`, { cause });
  }
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes > maxValueBytes) {
    throw new InvalidValueError(`value for key ${key} is ${bytes} bytes, over maxValueBytes (${maxValueBytes}); nothing was written`);
  }
  return bytes;
}

/** Deserializes, turning a failure into `DecodeError` naming the key and server. */
export function decodeValue(serializer: Serializer, data: Buffer, flags: number, key: string, server: string): unknown {
  try {
    return serializer.deserialize(data, flags);
  } catch (err) {
    throw new DecodeError(`cannot decode item ${key} (flags ${flags}, ${data.length} bytes): ${(err as Error).message}`, { server, cause: err });
  }
}
