// A listener in its own process for the gateway benchmarks, so the load generator gets the other core.
// `bare`: node:http reading the body, parsing the JSON and answering like the gateway does.
// `read`: node:http that only reads the body and answers the same (the in-editor row's baseline, as the issue
// that asked for it measured).
// `product`: the gateway's listener as the extension runs it: header authentication, size limit, parsing,
// de-duplication, the DM policy and the inbox line. It tells its parent its port and, when asked (IPC),
// its heap after a full garbage collection (run with --expose-gc).
import * as http from 'node:http';
import { authenticateInbound, InboundKey } from '../src/core/gateway/auth';
import { inboxLine, senderUserId } from '../src/core/gateway/callback';
import { decide } from '../src/core/gateway/policy';
import { startGatewayServer } from '../src/core/gateway/server';

export const BENCH_APP_SECRET = 'bench-app-secret-0123456789abcdefghijklmnopqrstuvwxyz';
const EMPTY_ANSWER = JSON.stringify({ msgtype: 'empty' });
const INBOX_LINES = 200; // the Inbox keeps this many recent messages

async function startBare(parse: boolean): Promise<number> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        if (parse) JSON.parse(Buffer.concat(chunks).toString('utf8'));
        res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end(EMPTY_ANSWER);
      } catch {
        res.writeHead(400).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

async function startProduct(): Promise<number> {
  const keys: InboundKey[] = [{ robotId: 'bench', signingKeys: [BENCH_APP_SECRET] }];
  const inbox: string[] = [];
  const server = await startGatewayServer({
    port: 0,
    authenticate: (headers) => authenticateInbound(keys, headers, Date.now()),
    onMessage: (message) => {
      if (decide('open', [], [], senderUserId(message)) !== 'accept') return;
      inbox.push(inboxLine(message, Date.now(), 'Bench', 'direct'));
      if (inbox.length > INBOX_LINES) inbox.splice(0, inbox.length - INBOX_LINES);
    },
  });
  return server.address.port;
}

function heapAfterGc(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc');
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

if (require.main === module) {
  const mode = process.argv[2];
  (mode === 'bare' || mode === 'read' ? startBare(mode === 'bare') : startProduct()).then((port) => {
    process.send!({ port });
    process.on('message', (m: { heap?: boolean }) => { if (m.heap) process.send!({ heap: heapAfterGc() }); });
    process.on('disconnect', () => process.exit(0));
  }, (error) => {
    console.error(error);
    process.exit(1);
  });
}
