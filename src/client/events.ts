/**
 * The events a `Client` reports about its servers, each emitted on the client and published on
 * `node:diagnostics_channel` as `memcluster:<event>`. A throwing listener never breaks the socket
 * handler that reported the event: it is turned into an `error` event (`MC_ERR_LISTENER`) when
 * someone listens for those, and dropped otherwise.
 */
import type { EventEmitter } from 'node:events';
import diagnostics from 'node:diagnostics_channel';
import { MemclusterError } from '../errors.js';
import { describeValue } from '../text.js';

/** Events a `Client` emits; each is also published on `node:diagnostics_channel` as `memcluster:<event>`. */
export interface ClientEvents {
  serverDown: [{ server: string; reason: MemclusterError; failures: number }];
  serverUp: [{ server: string; downForMs: number }];
  connectionEvicted: [{ server: string; connection: number; reason: MemclusterError }];
  /** `fetch` could not ask the cache (server down, timeout...): it called the loader directly and stored nothing. */
  fetchFallback: [{ server: string; reason: MemclusterError }];
  /** A `fetch` background reload (stale item, `recacheWithin`) failed: its loader threw or the value was not storable. */
  fetchRefreshFailed: [{ server: string; reason: unknown }];
  error: [MemclusterError];
}

const channels = {
  serverDown: diagnostics.channel('memcluster:serverDown'),
  serverUp: diagnostics.channel('memcluster:serverUp'),
  connectionEvicted: diagnostics.channel('memcluster:connectionEvicted'),
  fetchFallback: diagnostics.channel('memcluster:fetchFallback'),
  fetchRefreshFailed: diagnostics.channel('memcluster:fetchRefreshFailed'),
};

/** The events about servers (all but `error`, which reports a listener that threw). */
export type ServerEvent = keyof typeof channels;

/** Publishes `event` on its channel (when subscribed) and emits it on `emitter`. */
export function publishEvent<E extends ServerEvent>(emitter: EventEmitter<ClientEvents>, event: E, payload: ClientEvents[E][0]): void {
  const ch = channels[event];
  if (ch.hasSubscribers) ch.publish(payload);
  try {
    (emitter.emit as (e: string, p: unknown) => boolean).call(emitter, event, payload);
  } catch (err) {
    if (emitter.listenerCount('error') === 0) return;
    try {
      emitter.emit('error', new MemclusterError('MC_ERR_LISTENER', `a '${event}' listener threw: ${describeValue((err as Error)?.message ?? err)}`, { server: payload.server, cause: err }));
    } catch {
      // An 'error' listener that throws too has nowhere left to report to.
    }
  }
}
