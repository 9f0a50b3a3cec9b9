// The gateway server tests' harness: a server on a free port that checks DingTalk's signature, records what it
// delivers and refuses, and the requests (signed or not, through fetch or raw node:http) that the tests send it.
import type { TestContext } from 'node:test';
import * as http from 'node:http';
import type { InboundMessage } from '../../src/core/gateway/callback';
import { GatewayServerOptions, RejectReason, startGatewayServer } from '../../src/core/gateway/server';
import { verifySignature } from '../../src/core/signing';
import { dingtalkSign } from './dingtalkSign';

export const SECRET = 'app-secret-Xy9_kLmN0pQrStUv';

/** The oracle: DingTalk's scheme computed with node:crypto, independently of src/core/signing. */
export function sign(timestamp: number | string, secret = SECRET): string {
  return dingtalkSign(secret, timestamp);
}

export function signedHeaders(now = Date.now(), secret = SECRET): Record<string, string> {
  return { 'content-type': 'application/json', timestamp: String(now), sign: sign(now, secret) };
}

let msgCounter = 0;
export function callback(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  msgCounter++;
  return {
    msgtype: 'text',
    text: { content: ' hello gateway' },
    msgId: `msg-${process.pid}-${msgCounter}`,
    createAt: 1_700_000_000_000,
    conversationType: '2',
    conversationId: 'cid-1',
    conversationTitle: 'Team',
    senderId: '$:LWCP_v1:$abc',
    senderNick: 'Ann',
    senderStaffId: 'staff-1',
    sessionWebhook: 'https://oapi.dingtalk.com/robot/sendBySession?session=s',
    sessionWebhookExpiredTime: 1_700_005_400_000,
    ...overrides,
  };
}

export function header(headers: http.IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

export interface Harness {
  url: string;
  port: number;
  messages: InboundMessage[];
  rejections: { reason: RejectReason; detail?: string }[];
  authCalls: number;
  server: Awaited<ReturnType<typeof startGatewayServer>>;
}

export async function start(t: TestContext, overrides: Partial<GatewayServerOptions> = {}): Promise<Harness> {
  const h = { messages: [], rejections: [], authCalls: 0 } as unknown as Harness;
  const server = await startGatewayServer({
    port: 0,
    authenticate: (headers) => {
      h.authCalls++;
      return verifySignature(SECRET, header(headers, 'timestamp'), header(headers, 'sign'), Date.now());
    },
    onMessage: (message) => {
      h.messages.push(message);
    },
    onRejected: (reason, detail) => h.rejections.push({ reason, detail }),
    ...overrides,
  });
  t.after(() => server.close());
  h.server = server;
  h.url = server.url;
  h.port = server.address.port;
  return h;
}

export async function post(
  url: string, body: string, headers: Record<string, string>,
): Promise<{ status: number; text: string; headers: Headers }> {
  const res = await fetch(url, { method: 'POST', body, headers });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

/** A raw request through node:http, body written by the caller; resolves on the response. */
export function rawRequest(port: number, headers: Record<string, string>, options: { path?: string; method?: string } = {}) {
  const req = http.request({ host: '127.0.0.1', port, path: options.path ?? '/dingtalk', method: options.method ?? 'POST', headers, agent: false });
  const response = new Promise<http.IncomingMessage>((resolve, reject) => {
    req.once('response', resolve);
    req.once('error', reject);
  });
  return { req, response };
}

export async function readAll(res: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
