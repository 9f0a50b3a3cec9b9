// What a Stream client is told (credentials, gateway, timings) and the settings it derives from that:
// every timing checked once, the gateway URL held to https: (http: only to this computer).
import type { InboundMessage } from '../../gateway/callback';
import { isLoopbackHost } from '../../text/loopback';
import { StreamError } from './errors';

export const DEFAULT_GATEWAY_URL = 'https://api.dingtalk.com/v1.0/gateway/connections/open';
export const DEFAULT_BACKOFF_MS: readonly number[] = [1000, 2000, 5000, 10000, 30000];
export const DEFAULT_UA = 'dingtalk-vscode-stream/0.1.0';

export type StreamState = 'connecting' | 'connected' | 'reconnecting' | 'stopped' | { error: string };

export interface StreamOptions {
  clientId: string;
  clientSecret: string;
  /** Default DEFAULT_GATEWAY_URL (DingTalk's `connections/open`); tests pass a local stand-in. */
  gatewayUrl?: string;
  /** Called once per msgId (duplicates are dropped; the last `dedupeCapacity` ids are remembered). */
  onMessage(message: InboundMessage): Promise<void> | void;
  /**
   * Connection state changes. `{ error }` reports a problem (a failed reconnect, a message that could not be read,
   * onMessage throwing) and is followed by the current state unless the client gave up (start() failed).
   */
  onState?(state: StreamState): void;
  /** Delays before reconnect attempts, the last one repeating. Default DEFAULT_BACKOFF_MS. */
  backoffMs?: number[];
  fetchImpl?: typeof fetch;
  /** The certificates and checks for the WebSocket to `url` (in the editor: VS Code's trust, as for sends). */
  tlsFor?: (url: URL) => Promise<{ ca?: readonly string[]; rejectUnauthorized: boolean }>;
  /** `name-sdk-lang/version`, sent to DingTalk for diagnostics. */
  ua?: string;
  /** WebSocket ping interval (also how often the idle watchdog looks). Default 10 s. */
  pingIntervalMs?: number;
  /**
   * Reconnect when nothing at all (frame, pong) arrived for this long after a ping. Counted from the ping rather
   * than from the last frame, so a stalled event loop or a laptop waking up does not drop a live connection. Default 30 s.
   */
  idleTimeoutMs?: number;
  /** Timeout of the `connections/open` request and of the WebSocket handshake. Default 15 s. */
  connectTimeoutMs?: number;
  /** After a `disconnect` notice, how long the old socket may stay open for in-flight frames. Default 15 s. */
  drainMs?: number;
  /** How many msgIds are remembered for deduplication. Default 2,000. */
  dedupeCapacity?: number;
  /** The wall clock, compared with the timers to notice that the computer slept. Default Date.now. */
  now?: () => number;
  /** How often the wall clock is checked. Default 2 s. */
  clockCheckMs?: number;
}

/** The options with defaults filled in and every timing checked. */
export interface StreamSettings {
  gatewayUrl: string;
  backoff: number[];
  fetchImpl: typeof fetch;
  pingIntervalMs: number;
  idleTimeoutMs: number;
  connectTimeoutMs: number;
  drainMs: number;
  dedupeCapacity: number;
  now: () => number;
  clockCheckMs: number;
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`${name} must be a non-negative number`);
  return value;
}

/** Throws on missing credentials, a gateway URL that is not http(s), or a negative or non-finite timing. */
export function streamSettings(options: StreamOptions): StreamSettings {
  if (!options.clientId || !options.clientSecret) throw new StreamError('Stream mode needs a Client ID and a Client Secret', 'auth');
  const gatewayUrl = options.gatewayUrl || DEFAULT_GATEWAY_URL;
  const protocol = new URL(gatewayUrl).protocol;
  if (protocol !== 'https:' && protocol !== 'http:') throw new RangeError(`gatewayUrl must be http(s), got ${protocol}`);
  const backoff = options.backoffMs && options.backoffMs.length > 0
    ? options.backoffMs.map((v) => positive(v, 0, 'backoffMs'))
    : [...DEFAULT_BACKOFF_MS];
  return {
    gatewayUrl,
    backoff,
    fetchImpl: options.fetchImpl ?? fetch,
    pingIntervalMs: positive(options.pingIntervalMs, 10_000, 'pingIntervalMs') || 10_000,
    idleTimeoutMs: positive(options.idleTimeoutMs, 30_000, 'idleTimeoutMs'),
    connectTimeoutMs: positive(options.connectTimeoutMs, 15_000, 'connectTimeoutMs'),
    drainMs: positive(options.drainMs, 15_000, 'drainMs'),
    dedupeCapacity: options.dedupeCapacity ?? 2_000,
    now: options.now ?? Date.now,
    clockCheckMs: positive(options.clockCheckMs, 2_000, 'clockCheckMs') || 2_000,
  };
}

/** `https:` always; `http:` only to this computer (a stand-in), so a setting cannot send the secret in clear. */
export function refuseGatewayUrl(gatewayUrl: string): StreamError | undefined {
  const url = new URL(gatewayUrl);
  if (url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname))) return undefined;
  return new StreamError(
    `The Stream gateway URL must be https: (http: only for this computer, e.g. a local stand-in); refused ${url.protocol}//${url.host}`,
    'config',
  );
}
