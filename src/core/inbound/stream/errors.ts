// What went wrong while connecting to DingTalk's Stream gateway, by kind.

/**
 * 'auth' when DingTalk refused the Client ID / Client Secret, 'rateLimited' when it throttles connection requests
 * (retried), 'network' for an outage or no answer, 'protocol' for a malformed answer, 'config' for a gateway URL
 * refused before any request, 'stopped' when the client was stopped first.
 */
export type StreamErrorKind = 'auth' | 'rateLimited' | 'network' | 'protocol' | 'config' | 'stopped';

export class StreamError extends Error {
  constructor(message: string, readonly kind: StreamErrorKind, readonly status?: number) {
    super(message);
    this.name = 'StreamError';
  }
}
