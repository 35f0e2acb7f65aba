import createDebug from 'debug';
import { Connection, now, type ConnectionOptions, type ValidationCommand } from './connection.js';
import {
  AuthenticationError, ClientErrorReply, ConnectionError, MemclusterError, TooManyConnectionsError, ValidationFailedError,
} from '../errors.js';
import { encodeMn, encodeVersion } from '../protocol/encoder.js';

const log = createDebug('memcluster:conn');

/** How long a server that refused `mn` is asked only `version` before `mn` is tried again. */
const RELEARN_AFTER_MS = 30_000;

/**
 * What one server's sockets have shown about it, shared by its pool and its health probes. It is
 * learned per socket and re-learned: an address can change what answers it (memcached rolled back
 * below 1.6, a proxy put in front, the proxy removed again), and a client must follow.
 */
export class ServerTraits {
  #version: string | undefined;
  /** Whether `#version` is one whose meta protocol memcluster uses (cached: read per request). */
  #metaVersion = false;

  /** The last `VERSION` a socket reported (undefined until one did). */
  get version(): string | undefined {
    return this.#version;
  }

  set version(v: string | undefined) {
    this.#version = v;
    this.#metaVersion = supportsMetaProtocol(v);
  }

  /** True when the last socket that tried `mn` got `MN`: it speaks the meta protocol's no-op. */
  meta = false;
  /** Until then (monotonic ms) new sockets are asked `version` only: `mn` was refused recently. */
  private mnRefusedUntil = 0;

  constructor(readonly mode: ValidationCommand | 'auto') {}

  /** Whether a new socket should try `mn` (always in `mn` mode, never in `version` mode). */
  get tryMn(): boolean {
    return this.mode === 'mn' || (this.mode === 'auto' && now() >= this.mnRefusedUntil);
  }

  /**
   * Whether requests to this server may use the meta protocol: memcached >= 1.6.10 by its version,
   * and, once `mn` was refused (a proxy in front of it closes the socket on a meta command), only
   * after a later socket got `MN` again: time passing proves nothing (a proxy forwards `version`).
   * `undefined` until a socket has reported the version.
   */
  get speaksMeta(): boolean | undefined {
    if (this.#version === undefined) return undefined;
    return this.#metaVersion && (this.mnRefusedUntil === 0 || this.meta);
  }

  /** Remembers that `mn` did not work on this server (ERROR, or the socket was closed on it). */
  refuseMn(): void {
    this.meta = false;
    this.mnRefusedUntil = now() + RELEARN_AFTER_MS;
  }
}

/** `mn` answered `ERROR`: the server does not speak the meta protocol; the socket is aligned and usable. */
export class MetaUnsupportedError extends ValidationFailedError {
  constructor(server: string, cause: unknown) {
    super('the server answered ERROR to mn (no meta protocol)', { server, cause });
  }
}

/**
 * Sends the light real request on `conn` and checks the reply byte for byte (`MN`, or
 * `VERSION <x>`), resolving with the version for `version`. Any other outcome rejects with
 * `ValidationFailedError` (or `TooManyConnectionsError` / `AuthenticationError` when that is what
 * the server said) and destroys the connection, except an `ERROR` line answering `mn` when
 * `keepOnError` is set: the server does not know `mn` (memcached < 1.6 and some proxies), the
 * stream is still aligned, and the caller may ask `version` on the same socket instead.
 */
export async function validateSocket(conn: Connection, command: ValidationCommand, timeoutMs: number, keepOnError = false): Promise<string | undefined> {
  const started = now();
  const server = conn.server;
  conn.validating = true;
  try {
    const reply = await conn.send(command === 'mn' ? encodeMn() : encodeVersion(), command, started + timeoutMs);
    if (command === 'mn' && reply.kind === 'status' && reply.status === 'MN') return undefined;
    if (command === 'version' && reply.kind === 'version') return reply.version;
    throw new ValidationFailedError(`unexpected reply to ${command}: ${reply.kind}`, { server });
  } catch (err) {
    if (keepOnError && command === 'mn' && conn.alive && err instanceof ClientErrorReply && err.detail === 'server answered ERROR') {
      throw new MetaUnsupportedError(server, err);
    }
    const wrapped = err instanceof TooManyConnectionsError || err instanceof ValidationFailedError
      ? err
      : err instanceof ClientErrorReply && err.detail.startsWith('CLIENT_ERROR unauthenticated')
        ? new AuthenticationError('the server requires authentication (memcached -Y) and no credentials are configured (option auth)', { server, cause: err })
        : new ValidationFailedError(`${command} validation failed after ${Math.round(now() - started)} ms: ${(err as MemclusterError).detail ?? (err as Error).message}`, { server, cause: err });
    conn.destroy(wrapped);
    throw wrapped;
  } finally {
    conn.validating = false;
  }
}

/** A socket that answered a real request, and the request to prove it with when borrowed. */
export interface ProvenSocket {
  conn: Connection;
  command: ValidationCommand;
}

/**
 * Opens a socket and proves it with a real request, learning on the way what the server speaks:
 * in `auto` mode `version` first (the server's version, and whether `mn` can exist), then `mn` when
 * the version allows it. A server that answers `mn` with `ERROR` keeps the socket (the stream is
 * aligned) and that socket is proven with `version` from then on; one that closes the socket on
 * `mn` (twemproxy does) gets a second socket proven with `version`. Either way `mn` is not tried
 * again on this server for a while, and is tried again after that.
 */
export async function openProven(opts: ConnectionOptions, traits: ServerTraits, validateTimeoutMs: number, signal?: AbortSignal): Promise<ProvenSocket> {
  const proven = await prove(opts, traits, validateTimeoutMs, signal);
  proven.conn.validation = proven.command;
  return proven;
}

async function prove(opts: ConnectionOptions, traits: ServerTraits, validateTimeoutMs: number, signal?: AbortSignal): Promise<ProvenSocket> {
  const conn = await Connection.open(opts, signal);
  if (!traits.tryMn) {
    traits.version = await validateSocket(conn, 'version', validateTimeoutMs);
    return { conn, command: 'version' };
  }
  if (traits.mode === 'mn') {
    // The version is asked once (the first socket): it says which meta protocol the server speaks,
    // and until it is known a read cannot use meta (a classic get returns lease placeholders).
    if (traits.version === undefined) traits.version = await validateSocket(conn, 'version', validateTimeoutMs);
    await validateSocket(conn, 'mn', validateTimeoutMs);
    traits.meta = true;
    return { conn, command: 'mn' };
  }
  // The version is recorded only once `mn` has been answered: a proxy in front of the server
  // forwards `version` but not `mn`, and a known version with `mn` still untried reads as "speaks
  // meta" (calls made meanwhile would send meta commands that make the proxy close the socket).
  const version = await validateSocket(conn, 'version', validateTimeoutMs);
  if (!supportsMetaNoop(version)) {
    traits.version = version;
    traits.meta = false;
    return { conn, command: 'version' };
  }
  try {
    await validateSocket(conn, 'mn', validateTimeoutMs, true);
    traits.meta = true;
    traits.version = version;
    return { conn, command: 'mn' };
  } catch (err) {
    if (err instanceof MetaUnsupportedError) {
      log('%s conn#%d answered ERROR to mn: validating with version', opts.server, conn.id);
      traits.refuseMn();
      traits.version = version;
      return { conn, command: 'version' };
    }
    if (!(err instanceof MemclusterError) || !isClosedOnMn(err)) throw err;
    // Closed on `mn` right after answering `version`: something in front does not know meta.
    log('%s conn#%d was closed on mn: validating with version on a new socket', opts.server, conn.id);
    traits.refuseMn();
    const again = await Connection.open(opts, signal);
    traits.version = await validateSocket(again, 'version', validateTimeoutMs);
    return { conn: again, command: 'version' };
  }
}

/** The socket ended (EOF/reset) in answer to `mn`, rather than staying silent. */
function isClosedOnMn(err: MemclusterError): boolean {
  const cause = err.cause;
  return cause instanceof ConnectionError;
}

/** `mn` exists from memcached 1.6 (1.5.19 in an early form); proxies report other strings. */
export function supportsMetaNoop(version: string | undefined): boolean {
  const m = /^(\d+)\.(\d+)\./.exec(version ?? '');
  if (!m) return false;
  const major = Number(m[1]);
  const minor = Number(m[2]);
  return major > 1 || (major === 1 && minor >= 6);
}

/** The meta protocol with the syntax memcluster uses (`HD`, lease flags) is memcached >= 1.6.10. */
export function supportsMetaProtocol(version: string | undefined): boolean {
  const m = /^(\d+)\.(\d+)\.(\d+)/.exec(version ?? '');
  if (!m) return false;
  const [major, minor, patch] = [Number(m[1]), Number(m[2]), Number(m[3])];
  return major > 1 || (major === 1 && (minor > 6 || (minor === 6 && patch >= 10)));
}
