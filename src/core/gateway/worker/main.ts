// The gateway's worker thread: listens, authenticates, reads, parses and de-duplicates off the extension host's
// main thread, whose event loop (and garbage collector) is busy with the whole editor. Only authenticated,
// first-seen messages, and counted refusals, reach the extension host.
import { parentPort, workerData } from 'node:worker_threads';
import { authenticateInbound, InboundKey } from '../auth';
import type { InboundMessage } from '../callback';
import { FLOODABLE_REASONS, GatewayServer, RejectReason, startGatewayServer } from '../server';
import { Throttle } from '../../throttle';
import type { FromWorker, HandedMessage, RejectionCount, ToWorker, WorkerSetup } from './protocol';
import { TurnBatch } from './turnBatch';

const port = parentPort;
if (!port) throw new Error('the gateway worker runs only as a worker thread');
const setup = workerData as WorkerSetup;
const post = (message: FromWorker) => port.postMessage(message);

let keys: InboundKey[] = setup.keys;
let nextId = 1;
const answers = new Map<number, { resolve(answer: object | undefined): void; reject(error: Error): void }>();

/** Refusals anyone can cause are counted per reason and handed over a few times a second, not one by one. */
const counted = new Map<RejectReason, RejectionCount>();
const handOver = new Throttle(setup.rejectionBatchMs, () => {
  if (counted.size === 0) return;
  post({ type: 'rejected', counts: [...counted.values()] });
  counted.clear();
});

function rejected(reason: RejectReason, detail?: string): void {
  if (!FLOODABLE_REASONS.has(reason)) return post({ type: 'rejected', counts: [{ reason, detail, count: 1 }] }); // each one matters
  const entry = counted.get(reason);
  if (entry) entry.count++;
  else counted.set(reason, { reason, detail, count: 1 });
  handOver.schedule();
}

const handed = new TurnBatch<HandedMessage>((messages) => post({ type: 'messages', messages }));

function handToHost(message: InboundMessage, robotId: string): Promise<object | undefined> {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    answers.set(id, { resolve, reject });
    handed.push({ id, message, robotId });
  });
}

async function main(): Promise<void> {
  let server: GatewayServer;
  try {
    server = await startGatewayServer<{ robotId: string }>({
      host: setup.host,
      port: setup.port,
      path: setup.path,
      maxBodyBytes: setup.maxBodyBytes,
      requestTimeoutMs: setup.requestTimeoutMs,
      authenticate: (headers) => authenticateInbound(keys, headers, Date.now()),
      onMessage: (message, auth) => handToHost(message, auth.robotId),
      onRejected: rejected,
    });
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    post({ type: 'failed', message: e.message, code: e.code, name: e.name }); // the host then ends this thread
    return;
  }
  post({ type: 'listening', ...server.address, url: server.url });
  port?.on('message', (message: ToWorker) => {
    if (message.type === 'keys') keys = message.keys;
    else if (message.type === 'answers') {
      for (const { id, answer, error } of message.answers) {
        const waiting = answers.get(id);
        answers.delete(id);
        if (error !== undefined) waiting?.reject(new Error(error));
        else waiting?.resolve(answer);
      }
    } else if (message.type === 'close') {
      handOver.flush();
      void server.close().then(() => post({ type: 'closed' })); // the host then ends this thread
    }
  });
}

void main();
