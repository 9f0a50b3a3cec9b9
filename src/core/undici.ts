// The parts of undici the client uses, required from their own files: undici's index also loads fetch,
// WebSocket, the HTTP cache and the mocks, about 200 KB of the bundle the extension never runs.
// Types still come from the package's declarations.
import type * as Undici from 'undici';

export const Agent: typeof Undici.Agent = require('undici/lib/dispatcher/agent.js');
export const ProxyAgent: typeof Undici.ProxyAgent = require('undici/lib/dispatcher/proxy-agent.js');
export const EnvHttpProxyAgent: typeof Undici.EnvHttpProxyAgent = require('undici/lib/dispatcher/env-http-proxy-agent.js');
const apiRequest: (this: Undici.Dispatcher, options: Undici.Dispatcher.RequestOptions) => Promise<Undici.Dispatcher.ResponseData> =
  require('undici/lib/api/api-request.js');

export type Dispatcher = Undici.Dispatcher;
export type ResponseBody = Undici.Dispatcher.ResponseData['body'];

/** undici's `request(url, options)`, always through the given dispatcher (never the global one). */
export function request(
  url: string,
  options: Omit<Undici.Dispatcher.RequestOptions, 'origin' | 'path'> & { dispatcher: Undici.Dispatcher },
): Promise<Undici.Dispatcher.ResponseData> {
  const { dispatcher, ...rest } = options;
  const { origin, pathname, search } = new URL(url);
  return apiRequest.call(dispatcher, { ...rest, origin, path: pathname + search });
}
