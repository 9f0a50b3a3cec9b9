// The stream tests' harness: a StreamClient wired to a local stand-in of DingTalk's gateway (./streamStandIn.ts),
// with its messages and states recorded, so each test waits on events instead of sleeping.
import type { TestContext } from 'node:test';
import { EventEmitter } from 'node:events';
import type { InboundMessage } from '../../src/core/gateway/callback';
import { StreamClient } from '../../src/core/inbound/stream/client';
import type { StreamOptions, StreamState } from '../../src/core/inbound/stream/options';
import { startStreamStandIn, StreamStandIn, StreamStandInOptions } from './streamStandIn';

export const APP = { clientId: 'dingstreamtest0001', clientSecret: 'Zq8-StreamSecret_kLmN0pQrStUvWxYz0123456789abcdefGHIJ' };

let counter = 0;
export function botMessage(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  counter++;
  return {
    conversationId: 'cidAsXSBLnA==',
    atUsers: [{ dingtalkId: '$:LWCP_v1:$robot' }],
    chatbotCorpId: 'ding9f50b15b',
    chatbotUserId: '$:LWCP_v1:$robot',
    msgId: `msgStream${process.pid}-${counter}`,
    senderNick: '用户',
    isAdmin: true,
    senderStaffId: '166500698',
    sessionWebhookExpiredTime: 1_690_367_502_152,
    createAt: 1_690_362_101_894,
    senderCorpId: 'ding9f50b15b',
    conversationType: '2',
    senderId: '$:LWCP_v1:$sender',
    conversationTitle: '测试群',
    isInAtList: true,
    sessionWebhook: 'https://oapi.dingtalk.com/robot/sendBySession?session=76da36b4',
    text: { content: ' 测试数据' },
    robotCode: 'dingrobotcode',
    msgtype: 'text',
    ...overrides,
  };
}

export interface Harness {
  standIn: StreamStandIn;
  client: StreamClient;
  messages: InboundMessage[];
  states: StreamState[];
  errors: string[];
  /** Resolves when a state matching `match` is reported (from now on). */
  nextState(match: (s: StreamState) => boolean, timeoutMs?: number): Promise<StreamState>;
}

export function waitEvent<T>(
  emitter: EventEmitter, event: string, match: (value: T) => boolean, what: string, timeoutMs = 5_000,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const listener = (value: T) => {
      if (!match(value)) return;
      clearTimeout(timer);
      emitter.off(event, listener);
      resolve(value);
    };
    const timer = setTimeout(() => {
      emitter.off(event, listener);
      reject(new Error(`timed out waiting for ${what}`));
    }, timeoutMs);
    emitter.on(event, listener);
  });
}

export async function setup(
  t: TestContext, standInOptions: Partial<StreamStandInOptions> = {}, clientOptions: Partial<StreamOptions> = {},
): Promise<Harness> {
  const standIn = await startStreamStandIn({ apps: [APP], ...standInOptions });
  const events = new EventEmitter();
  const messages: InboundMessage[] = [];
  const states: StreamState[] = [];
  const errors: string[] = [];
  const client = new StreamClient({
    ...APP,
    gatewayUrl: standIn.gatewayUrl,
    backoffMs: [5, 10, 20],
    onMessage: (m) => {
      messages.push(m);
    },
    ...clientOptions,
    onState: (s) => {
      states.push(s);
      if (typeof s === 'object') errors.push(s.error);
      events.emit('state', s);
      clientOptions.onState?.(s);
    },
  });
  t.after(async () => {
    await client.stop();
    await standIn.close();
  });
  return {
    standIn,
    client,
    messages,
    states,
    errors,
    nextState: (match, timeoutMs) => waitEvent(events, 'state', match, 'a state change', timeoutMs),
  };
}
