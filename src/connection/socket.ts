/**
 * Opening one socket to one server: TCP or TLS, within the connect timeout, abandoned at once on
 * abort, with TLS failures that say what was refused. The connection layer builds a `Connection`
 * on the socket this gives.
 */
import net from 'node:net';
import tls from 'node:tls';
import createDebug from 'debug';
import { ConnectionError, ConnectTimeoutError, type MemclusterError } from '../errors.js';

const log = createDebug('memcluster:conn');

/** How a connection reaches its server and what it tolerates. */
export interface ConnectionOptions {
  host: string;
  port: number;
  /** `host:port` label used on every error and log line. */
  server: string;
  connectTimeoutMs: number;
  /** Largest value a reply may claim; a larger `VALUE` length is treated as forged. */
  maxValueBytes: number;
  /** Values over `maxValueBytes` up to this size are read and dropped (see `ParserOptions.dropValuesUpTo`). */
  dropValuesUpTo?: number | undefined;
  /** TLS options; when set, every byte goes over TLS. */
  tls?: tls.ConnectionOptions | undefined;
  /** ASCII-protocol credentials (memcached `-Y`), sent before anything else. */
  auth?: { username: string; password: string } | undefined;
  /**
   * The server is failing when a socket with requests outstanding has received no byte for this
   * long, measured from when the oldest outstanding request was written (or the last byte arrived,
   * if later). Only then is the socket destroyed and the failure counted against the server; a call
   * whose own deadline passes sooner is abandoned, not its socket. Default: 1000.
   */
  stallTimeoutMs?: number | undefined;
}

/**
 * Node's codes for a server certificate that failed verification (OpenSSL X509 errors, plus the
 * host name check). Retrying cannot fix these: the configuration (CA, servername) must change.
 */
const TLS_CERT_ERRORS: ReadonlySet<string> = new Set([
  'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_CRL', 'UNABLE_TO_DECRYPT_CERT_SIGNATURE', 'UNABLE_TO_DECRYPT_CRL_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY', 'CERT_SIGNATURE_FAILURE', 'CRL_SIGNATURE_FAILURE', 'CERT_NOT_YET_VALID', 'CERT_HAS_EXPIRED',
  'CRL_NOT_YET_VALID', 'CRL_HAS_EXPIRED', 'ERROR_IN_CERT_NOT_BEFORE_FIELD', 'ERROR_IN_CERT_NOT_AFTER_FIELD',
  'ERROR_IN_CRL_LAST_UPDATE_FIELD', 'ERROR_IN_CRL_NEXT_UPDATE_FIELD', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'CERT_CHAIN_TOO_LONG', 'CERT_REVOKED', 'INVALID_CA',
  'PATH_LENGTH_EXCEEDED', 'INVALID_PURPOSE', 'CERT_UNTRUSTED', 'CERT_REJECTED', 'HOSTNAME_MISMATCH', 'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** True when `err` (or its cause) says the server's TLS certificate was not accepted. */
export function isTlsCertificateError(err: unknown): boolean {
  for (let e = err, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && TLS_CERT_ERRORS.has(code)) return true;
  }
  return false;
}

/** The error for a socket that failed before it was connected; TLS failures say what was refused. */
function connectError(err: NodeJS.ErrnoException, opts: ConnectionOptions): ConnectionError {
  const why = `${err.code ?? 'error'}: ${err.message}`;
  if (opts.tls && err.code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return new ConnectionError(`TLS handshake failed: the server certificate does not match the expected host name (${why})`, { server: opts.server, cause: err });
  }
  if (opts.tls && isTlsCertificateError(err)) {
    return new ConnectionError(`TLS handshake failed: the server certificate could not be verified (${why})`, { server: opts.server, cause: err });
  }
  if (opts.tls && (err.code?.startsWith('ERR_SSL') || err.code === 'ECONNRESET')) {
    return new ConnectionError(`TLS handshake failed (${why})`, { server: opts.server, cause: err });
  }
  return new ConnectionError(`connect failed: ${err.code ?? err.message}`, { server: opts.server, cause: err });
}

/**
 * A connected socket (no-delay set) within `connectTimeoutMs`; rejects with `ConnectTimeoutError`,
 * a `ConnectionError` naming what failed, or `aborted()` when `signal` aborts. The socket has no
 * listeners left when it resolves.
 */
export function openSocket(opts: ConnectionOptions, signal: AbortSignal | undefined, aborted: () => MemclusterError): Promise<net.Socket> {
  return new Promise<net.Socket>((resolve, reject) => {
    if (signal?.aborted) return reject(aborted());
    const socket = opts.tls
      ? tls.connect({ ...opts.tls, host: opts.host, port: opts.port, servername: opts.tls.servername ?? (net.isIP(opts.host) ? undefined : opts.host) })
      : net.connect({ host: opts.host, port: opts.port });
    socket.setNoDelay(true);
    const onAbort = () => fail(aborted());
    const fail = (err: MemclusterError) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.removeAllListeners();
      socket.on('error', () => {});
      socket.destroy();
      log('connect %s failed: %s', opts.server, err.message);
      reject(err);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    // When the timer fires, a connection completed meanwhile may not have been read yet (our loop was
    // busy): give it one poll phase before calling the connect late.
    let connected = false;
    const timer = setTimeout(() => setImmediate(() => {
      if (!connected) fail(new ConnectTimeoutError(`connect timed out after ${opts.connectTimeoutMs} ms`, { server: opts.server }));
    }), opts.connectTimeoutMs);
    socket.once('error', (err: NodeJS.ErrnoException) => fail(connectError(err, opts)));
    socket.once(opts.tls ? 'secureConnect' : 'connect', () => {
      connected = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.removeAllListeners();
      resolve(socket);
    });
  });
}
