// Stream mode lives in core/inbound/stream/ (client, connection, frames, options, ticket). This file keeps the
// old import path working for src/gateway.ts, which is being rewritten on the issue-9 branch; new code imports
// from core/inbound/stream/ directly.
export { StreamClient } from './inbound/stream/client';
export { StreamError, type StreamErrorKind } from './inbound/stream/errors';
export { DEFAULT_BACKOFF_MS, DEFAULT_GATEWAY_URL, type StreamOptions, type StreamState } from './inbound/stream/options';
export { TOPIC_ROBOT } from './inbound/stream/ticket';
