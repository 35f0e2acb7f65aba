/**
 * The protocol encoders with their requests as Buffers, for tests that check bytes. The encoders
 * return a `Wire` (a string unless a Buffer data block is in it: the connection writes strings as
 * UTF-8); these wrappers turn it into the exact bytes that go on the socket.
 */
import * as text from '../../src/protocol/encoder.js';
import * as meta from '../../src/protocol/meta-encoder.js';
import { wireBuffer, type Wire } from '../../src/protocol/types.js';

const asBytes = <A extends unknown[]>(f: (...args: A) => Wire) => (...args: A): Buffer => wireBuffer(f(...args));

export const encodeGet = asBytes(text.encodeGet);
export const encodeGat = asBytes(text.encodeGat);
export const encodeStore = asBytes(text.encodeStore);
export const encodeCas = asBytes(text.encodeCas);
export const encodeArith = asBytes(text.encodeArith);
export const encodeDelete = asBytes(text.encodeDelete);
export const encodeTouch = asBytes(text.encodeTouch);
export const encodeFlushAll = asBytes(text.encodeFlushAll);
export const encodeVersion = asBytes(text.encodeVersion);
export const encodeStats = asBytes(text.encodeStats);
export const encodeMn = asBytes(text.encodeMn);
export const encodeAuth = asBytes(text.encodeAuth);
export const { statsReplyKind } = text;

export const encodeMetaGet = asBytes(meta.encodeMetaGet);
export const encodeMetaGetBatch = asBytes(meta.encodeMetaGetBatch);
export const encodeMetaSet = asBytes(meta.encodeMetaSet);
export const encodeMetaDelete = asBytes(meta.encodeMetaDelete);
export const encodeMetaArith = asBytes(meta.encodeMetaArith);
export const encodeMetaNoop = asBytes(meta.encodeMetaNoop);
export const { MAX_OPAQUE_LENGTH } = meta;
