// Runs the gateway's HTTP endpoint in a worker thread (./main.ts) and speaks to it for the extension host:
// authenticated, first-seen messages come here to be answered; refusals come counted. Stopping the worker, or
// the extension host ending, closes the listener and every socket.
import { Worker } from 'node:worker_threads';
import { errorMessage } from '../../text/errorMessage';
import type { InboundKey } from '../auth';
import type { InboundMessage } from '../callback';
import { GatewayServer, GatewayStats, REJECT_REASONS, RejectReason } from '../server';
import type { Answer, FromWorker, ToWorker, WorkerSetup } from './protocol';
import { TurnBatch } from './turnBatch';

export interface GatewayWorkerOptions {
  /** The worker's script: `dist/gatewayWorker.js` in the extension, `out/src/core/gateway/worker/main.js` in tests. */
  workerFile: string;
  host?: string;
  port: number;
  path?: string;
  maxBodyBytes?: number;
  requestTimeoutMs?: number;
  keys: readonly InboundKey[];
  /** Default 250 ms. */
  rejectionBatchMs?: number;
  /** An authenticated, first-seen message; the returned object is the JSON answer. */
  onMessage(message: InboundMessage, auth: { robotId: string }): Promise<object | void> | object | void;
  /** Refusals of one reason: `count` of them, the first one's `detail`. */
  onRejected?(reason: RejectReason, detail: string | undefined, count: number): void;
  /** The worker ended by itself (it should not): the gateway no longer listens. */
  onFailed?(error: Error): void;
}

export interface GatewayWorker extends GatewayServer {
  /** Replaces the credentials requests are checked against, for the next request. */
  setKeys(keys: readonly InboundKey[]): void;
}

const CLOSE_TIMEOUT_MS = 2_000;

/** The worker's start-up error as the main thread would have thrown it: same class, message and `code`. */
function listenError(failed: Extract<FromWorker, { type: 'failed' }>): Error {
  const make = failed.name === 'TypeError' ? TypeError : failed.name === 'RangeError' ? RangeError : Error;
  return Object.assign(new make(failed.message), failed.code ? { code: failed.code } : {});
}

class WorkerEndpoint implements GatewayWorker {
  address = { host: '', port: 0 };
  url = '';
  private readonly counts = {
    accepted: 0,
    rejected: Object.fromEntries(REJECT_REASONS.map((r) => [r, 0])) as Record<RejectReason, number>,
  };
  private lastRejection?: { reason: RejectReason; at: number };
  private closing?: Promise<void>;
  private exited = false;
  private readonly answers = new TurnBatch<Answer>((answers) => this.send({ type: 'answers', answers }));

  constructor(private readonly worker: Worker, private readonly options: GatewayWorkerOptions) {
    worker.once('exit', () => { this.exited = true; });
  }

  /** Resolves once the worker listens; rejects with the listen error (its `code` kept) otherwise. */
  started(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const onExit = (code: number) => reject(new Error(`the gateway worker ended (exit code ${code}) before listening`));
      this.worker.once('error', reject);
      this.worker.once('exit', onExit);
      this.worker.on('message', (message: FromWorker) => {
        if (message.type === 'listening') {
          this.worker.off('error', reject);
          this.worker.off('exit', onExit);
          this.address = { host: message.host, port: message.port };
          this.url = message.url;
          this.watchForFailure();
          resolve();
        } else if (message.type === 'failed') {
          void this.worker.terminate();
          reject(listenError(message));
        } else {
          this.handle(message);
        }
      });
    });
  }

  setKeys(keys: readonly InboundKey[]): void {
    this.send({ type: 'keys', keys: [...keys] });
  }

  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      if (this.exited) return resolve();
      this.worker.once('exit', () => resolve());
      this.worker.on('message', (message: FromWorker) => { if (message.type === 'closed') void this.worker.terminate(); });
      // Answers already decided go out before the sockets close (messages arrive in order): a message shown in
      // the Inbox is not left unanswered, for DingTalk to send again to whoever listens next.
      this.answers.flush();
      this.send({ type: 'close' });
      // A thread that does not finish closing is ended anyway: Stop Gateway never hangs.
      setTimeout(() => void this.worker.terminate(), CLOSE_TIMEOUT_MS).unref();
    });
    return this.closing;
  }

  stats(): GatewayStats {
    return {
      accepted: this.counts.accepted,
      rejected: { ...this.counts.rejected },
      ...(this.lastRejection ? { lastRejection: { ...this.lastRejection } } : {}),
    };
  }

  /** A thread that throws also exits: reported once, with the error rather than the exit code. */
  private watchForFailure(): void {
    let reported = false;
    const failed = (error: Error) => {
      if (this.closing || reported) return;
      reported = true;
      this.options.onFailed?.(error);
    };
    this.worker.on('error', failed);
    this.worker.on('exit', (code) => failed(new Error(`the gateway worker ended (exit code ${code})`)));
  }

  private handle(message: FromWorker): void {
    if (message.type === 'messages') {
      // Posted before the thread heard of close: their sockets are gone, DingTalk retries with whoever listens next.
      if (this.closing) return;
      for (const m of message.messages) void this.answer(m.id, m.message, m.robotId);
    }
    else if (message.type === 'rejected') {
      for (const { reason, detail, count } of message.counts) {
        this.counts.rejected[reason] += count;
        this.lastRejection = { reason, at: Date.now() };
        try {
          this.options.onRejected?.(reason, detail, count);
        } catch {
          // The listener's problem, not the request's.
        }
      }
    }
  }

  private async answer(id: number, message: InboundMessage, robotId: string): Promise<void> {
    try {
      const result = await this.options.onMessage(message, { robotId });
      this.counts.accepted++;
      this.answers.push({ id, answer: result !== null && typeof result === 'object' ? result : undefined });
    } catch (error) {
      this.answers.push({ id, error: errorMessage(error) });
    }
  }

  private send(message: ToWorker): void {
    if (!this.closing || message.type === 'close') this.worker.postMessage(message);
  }
}

/** Starts the gateway's endpoint in its own thread; resolves once it listens. */
export async function startGatewayWorker(options: GatewayWorkerOptions): Promise<GatewayWorker> {
  const setup: WorkerSetup = {
    host: options.host ?? '127.0.0.1',
    port: options.port,
    path: options.path ?? '/dingtalk',
    maxBodyBytes: options.maxBodyBytes,
    requestTimeoutMs: options.requestTimeoutMs,
    keys: [...options.keys],
    rejectionBatchMs: options.rejectionBatchMs ?? 250,
  };
  const worker = new Worker(options.workerFile, { workerData: setup, name: 'DingTalk gateway' });
  const endpoint = new WorkerEndpoint(worker, options);
  try {
    await endpoint.started();
  } catch (error) {
    await worker.terminate();
    throw error;
  }
  return endpoint;
}
