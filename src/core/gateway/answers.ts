// The gateway's HTTP answers: canned refusals (built once, so refusing allocates almost nothing) and the JSON reply.
import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * A refused request whose unread body is at most this size keeps its connection: Node discards the rest
 * of the body cheaply and the client can reuse the socket. Bigger (or chunked) bodies get `Connection: close`.
 */
const DRAIN_LIMIT = 65_536;

const JSON_TYPE = 'application/json; charset=utf-8';
const TEXT_TYPE = 'text/plain; charset=utf-8';
// Bodies are strings: Node writes a string body together with the head in one write; a Buffer body takes a
// writev of two (measurably slower under load: bench/, the in-editor gateway rows).
export const EMPTY_REPLY = '{"msgtype":"empty"}';

/** A canned response: body and header objects built once, so refusing a request allocates almost nothing. */
export interface Canned {
  status: number;
  body: string;
  keep: Record<string, string | number>;
  close: Record<string, string | number>;
}

function canned(status: number, text: string, extra: Record<string, string> = {}): Canned {
  const body = `${text}\n`;
  const keep = { 'content-type': TEXT_TYPE, 'content-length': Buffer.byteLength(body), ...extra };
  return { status, body, keep, close: { ...keep, connection: 'close' } };
}

export const UNAUTHORIZED = canned(401, 'unauthorized');
export const TOO_LARGE = canned(413, 'payload too large');
export const BAD_JSON = canned(400, 'body is not JSON');
export const NOT_DINGTALK = canned(400, 'not a DingTalk robot message');
export const NOT_FOUND = canned(404, 'not found');
export const POST_ONLY = canned(405, 'method not allowed', { allow: 'POST' });
export const GET_ONLY = canned(405, 'method not allowed', { allow: 'GET, HEAD' });
export const INTERNAL = canned(500, 'internal error');
export const HEALTHY = canned(200, 'ok');

/**
 * Whether the connection must close after a refusal: the client may still send a body we are not going to
 * read and there could be too much of it to drain, or it waits for `100 Continue` and may never send it.
 */
export function unreadBodyTooBig(req: IncomingMessage): boolean {
  if (req.complete) return false;
  if (req.headers['transfer-encoding'] !== undefined || req.headers.expect !== undefined) return true;
  const length = req.headers['content-length'];
  return length !== undefined && Number(length) > DRAIN_LIMIT;
}

export function send(res: ServerResponse, c: Canned, close: boolean, headOnly = false): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(c.status, close ? c.close : c.keep);
  res.end(headOnly ? undefined : c.body);
}

export function answerJson(res: ServerResponse, body: string): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(200, { 'content-type': JSON_TYPE, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
