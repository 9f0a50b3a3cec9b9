// PLACEHOLDER until the Stream mode client lands (being written in parallel).
import type { InboundMessage } from './gateway/callback';
export type StreamState = 'connecting' | 'connected' | 'reconnecting' | 'stopped' | { error: string };
export interface StreamOptions { clientId: string; clientSecret: string; gatewayUrl?: string; onMessage(message: InboundMessage): Promise<void> | void; onState?(state: StreamState): void }
export class StreamClient {
  constructor(readonly options: StreamOptions) {}
  async start(): Promise<void> { throw new Error('Stream mode is not available yet'); }
  async stop(): Promise<void> {}
  get state(): StreamState { return 'stopped'; }
}
