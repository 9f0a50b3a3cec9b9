// The parts of undici the client uses, required from their own files: undici's index also loads fetch,
// WebSocket, the HTTP cache and the mocks, about 200 KB of the bundle the extension never runs.
// Types still come from the package's declarations. These paths are undici's internal layout, so its version
// is pinned exactly; an upgrade must pass the unit tests, which load undici the same way.
import type * as Undici from 'undici';

/* eslint-disable @typescript-eslint/no-require-imports -- internal files have no declarations; typed through the package's */

// What undici's index does on load: every dispatcher gets request(), connect() and the other API methods.
// ProxyAgent needs connect() for the CONNECT tunnel.
const Dispatcher: typeof Undici.Dispatcher = require('undici/lib/dispatcher/dispatcher.js');
Object.assign(Dispatcher.prototype, require('undici/lib/api/index.js'));

export const Agent: typeof Undici.Agent = require('undici/lib/dispatcher/agent.js');
export const ProxyAgent: typeof Undici.ProxyAgent = require('undici/lib/dispatcher/proxy-agent.js');
export const EnvHttpProxyAgent: typeof Undici.EnvHttpProxyAgent = require('undici/lib/dispatcher/env-http-proxy-agent.js');

/* eslint-enable @typescript-eslint/no-require-imports */

export type Dispatcher = Undici.Dispatcher;
export type ResponseData = Undici.Dispatcher.ResponseData;

/** undici's `request(url, options)`, always through the given dispatcher (never the global one). */
export function request(
  url: URL,
  options: Omit<Undici.Dispatcher.RequestOptions, 'origin' | 'path'> & { dispatcher: Undici.Dispatcher },
): Promise<Undici.Dispatcher.ResponseData> {
  const { dispatcher, ...rest } = options;
  return dispatcher.request({ ...rest, origin: url.origin, path: url.pathname + url.search });
}
