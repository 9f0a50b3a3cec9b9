// Reading the frames DingTalk sends on a Stream connection and the answers they need. Frames are JSON
// `{specVersion, type: SYSTEM|EVENT|CALLBACK, headers: {topic, messageId, contentType, time, …}, data: "<json string>"}`;
// each is answered with `{code, headers: {contentType, messageId}, message, data}`.
import { parseCallback } from '../../gateway/callback';
import { isObject, TOPIC_ROBOT } from './ticket';

interface Frame {
  specVersion?: string;
  type?: string;
  headers?: Record<string, unknown>;
  data?: unknown;
}

/** What a frame asks of the client. */
export type FrameAction =
  /** Answer with `reply` (a system ping: the same headers and data back, as the SDK does). */
  | { kind: 'ping'; reply: object }
  /** DingTalk will close this socket about 10 s later. */
  | { kind: 'disconnect' }
  | { kind: 'robot'; messageId: unknown; data: unknown }
  /** A topic this client does not subscribe to. */
  | { kind: 'unhandled'; messageId: unknown };

/** The action for one text frame; undefined for text that is not a JSON object and for other system topics. */
export function readFrame(text: string): FrameAction | undefined {
  let frame: Frame;
  try {
    const parsed: unknown = JSON.parse(text);
    if (!isObject(parsed)) return undefined;
    frame = parsed as Frame;
  } catch {
    return undefined;
  }
  const headers = isObject(frame.headers) ? frame.headers : {};
  const topic = headers.topic;
  const messageId = headers.messageId;
  if (frame.type === 'SYSTEM') {
    if (topic === 'ping') return { kind: 'ping', reply: { code: 200, headers, message: 'OK', data: frame.data } };
    if (topic === 'disconnect') return { kind: 'disconnect' };
    return undefined;
  }
  if (frame.type === 'CALLBACK' && topic === TOPIC_ROBOT) return { kind: 'robot', messageId, data: frame.data };
  return { kind: 'unhandled', messageId };
}

/** The answer to the frame `messageId`; undefined when the frame had no id to answer. */
export function ackFrame(messageId: unknown, data: unknown, code = 200, message = 'OK'): object | undefined {
  if (typeof messageId !== 'string' || !messageId) return undefined;
  return { code, headers: { contentType: 'application/json', messageId }, message, data: JSON.stringify(data) };
}

/** A robot frame's data (a JSON string) read with the same parser as the HTTP callback. */
export function readRobotMessage(data: unknown): ReturnType<typeof parseCallback> {
  let json: unknown = data;
  if (typeof data === 'string') {
    try {
      json = JSON.parse(data);
    } catch {
      json = undefined;
    }
  }
  return parseCallback(json);
}
