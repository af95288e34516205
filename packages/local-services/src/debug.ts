import { debuglog } from 'node:util';

/**
 * Debug output of this package; shown when `NODE_DEBUG=eap-local-services` is set.
 * Used for decisions a caller may want to know about (fallback directories, stale lock files).
 */
export const debug = debuglog('eap-local-services');
