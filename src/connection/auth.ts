/**
 * memcached's ASCII authentication (`-Y`), run on a new socket before anything else.
 */
import { AuthenticationError, ClientErrorReply, ConnectTimeoutError, TimeoutError, type MemclusterError } from '../errors.js';
import { encodeAuth, encodeVersion } from '../protocol/encoder.js';
import type { Reply, ReplyKind, Wire } from '../protocol/types.js';

const UNAUTHENTICATED = 'unauthenticated';

/** What authentication needs of a connection. */
export interface Sender {
  readonly server: string;
  send(bytes: Wire, kind: ReplyKind, deadline: number): Promise<Reply>;
  destroy(reason: MemclusterError): void;
}

/**
 * Authenticates a socket just opened, when credentials are set; on failure, or when `signal` aborts
 * first (`aborted()` says why), the socket is destroyed and the error thrown.
 */
export async function authenticateOpened(
  conn: Sender, auth: { username: string; password: string } | undefined, deadline: number, signal: AbortSignal | undefined, aborted: () => MemclusterError,
): Promise<void> {
  if (!auth) return;
  if (signal?.aborted) {
    conn.destroy(aborted());
    throw aborted();
  }
  const abortAuth = () => conn.destroy(aborted());
  signal?.addEventListener('abort', abortAuth, { once: true });
  try {
    await authenticate(conn, auth, deadline);
  } catch (caught) {
    // No reply in time is part of setting the socket up: a connect timeout naming the server, not
    // a call's TimeoutError ("request abandoned, socket kept" says neither what happened nor that it counts).
    const err = caught instanceof TimeoutError
      ? new ConnectTimeoutError('authentication got no reply in time (bound: connectTimeoutMs); the socket was closed', { server: conn.server, cause: caught })
      : caught;
    conn.destroy(err as MemclusterError);
    throw err;
  } finally {
    signal?.removeEventListener('abort', abortAuth);
  }
}

/**
 * memcached's ASCII authentication is a `set` whose data is "<user> <password>". A server
 * without `-Y` would run that data line as a command, so the credentials go only to a server
 * that asked for them: first `version`, which a `-Y` server answers with `CLIENT_ERROR
 * unauthenticated` (keeping the connection), then the credentials.
 */
export async function authenticate(conn: Sender, auth: { username: string; password: string }, deadline: number): Promise<void> {
  // `version` has no data block, so its `CLIENT_ERROR unauthenticated` leaves the stream aligned.
  const required = await conn.send(encodeVersion(), 'version', deadline).then(() => false, (err: unknown) => {
    if (err instanceof ClientErrorReply && err.detail === `CLIENT_ERROR ${UNAUTHENTICATED}`) return true;
    throw err;
  });
  if (!required) {
    throw new AuthenticationError('authentication failed: the server does not use ASCII authentication (-Y); the credentials were not sent', { server: conn.server });
  }
  try {
    await conn.send(encodeAuth(auth.username, auth.password), 'auth', deadline);
  } catch (err) {
    // Only an error line answering the credentials is a refusal (memcached 1.6 answers
    // `CLIENT_ERROR authentication failure`); a timeout or EOF during auth stays what it is.
    if (!(err instanceof ClientErrorReply)) throw err;
    // Never include the credentials: only the server's reason.
    throw new AuthenticationError(`authentication failed: the server refused the credentials of user ${JSON.stringify(auth.username)} (${err.detail})`, { server: conn.server, cause: err });
  }
}
