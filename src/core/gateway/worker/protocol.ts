// The messages between the extension host and the gateway's worker thread, typed once for both sides. A
// message handed to the extension host and its answer share an id. Both ways, what one turn of the event loop
// produced travels in one postMessage: under load, one message event per turn instead of one per request.
import type { InboundKey } from '../auth';
import type { InboundMessage } from '../callback';
import type { RejectReason } from '../server';

/** What the worker is started with (`workerData`). */
export interface WorkerSetup {
  host: string;
  port: number;
  path: string;
  maxBodyBytes?: number;
  requestTimeoutMs?: number;
  keys: InboundKey[];
  /** How often refusals a flood can cause are handed over, counted (the first of a quiet moment at once). */
  rejectionBatchMs: number;
}

/** Refusals of one reason since the last hand-over: how many, and the first one's detail. */
export interface RejectionCount {
  reason: RejectReason;
  detail?: string;
  count: number;
}

/** An authenticated, first-seen message, to be answered with the same id. */
export interface HandedMessage {
  id: number;
  message: InboundMessage;
  robotId: string;
}

/** The JSON answer to a handed message (`{"msgtype":"empty"}` without one), or why it could not be handled. */
export interface Answer {
  id: number;
  answer?: object;
  error?: string;
}

export type FromWorker =
  | { type: 'listening'; host: string; port: number; url: string }
  | { type: 'failed'; message: string; code?: string; name: string }
  | { type: 'messages'; messages: HandedMessage[] }
  | { type: 'rejected'; counts: RejectionCount[] }
  | { type: 'closed' };

export type ToWorker =
  | { type: 'keys'; keys: InboundKey[] }
  | { type: 'answers'; answers: Answer[] }
  | { type: 'close' };
