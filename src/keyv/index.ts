/**
 * `memcluster/keyv`: a Keyv 5 store on memcluster (usable by cache-manager 7 and anything built on Keyv).
 *
 * @example
 * import Keyv from 'keyv';
 * import { KeyvMemcluster } from 'memcluster/keyv';
 * const keyv = new Keyv({ store: new KeyvMemcluster(['127.0.0.1:11211']), namespace: 'app' });
 */
export { KeyvMemcluster, toSeconds } from './store.js';
export type { KeyvMemclusterOptions } from './store.js';
