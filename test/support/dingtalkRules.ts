// DingTalk's rules for a robot message, as the stand-in (./dingtalkStandIn.ts) enforces them, per
// ../shared/dingtalk-api.md: its error answers, the token/signature/rate gate, and the checks of a body's shape and keywords.
import { timingSafeEqual } from 'node:crypto';
import { dingtalkSign } from './dingtalkSign';

export interface StandInRobot {
  accessToken: string;
  /** `SEC…`: the robot uses signature mode. */
  secret?: string;
  /** The robot uses keyword mode. */
  keywords?: string[];
}

const HOUR = 3_600_000;

/** DingTalk's answers, by the doc and by field reports (40035, 400402). */
export const ERR = {
  tokenMissing: [400101, 'access_token does not exist'],
  tokenUnknown: [300001, 'token is not exist'],
  signNotMatch: [310000, 'sign not match, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]'],
  invalidTimestamp: [310000, 'invalid timestamp'],
  keywords: [310000, 'keywords not in content, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]'],
  tooFast: [130101, 'send too fast, exceed 20 times per minute'],
  tooLong: [460101, 'message too long, exceed 20000 bytes'],
  noJson: [40035, '缺少参数 json'],
  unsupported: [400105, 'unsupported message type'],
  sessionExpired: [300001, 'session webhook expired'],
} as const satisfies Record<string, readonly [number, string]>;

function missingParameter(name: string): [number, string] {
  return [400402, `描述:参数 ${name} 缺失，或者参数格式不正确;解决方案:请填充上对应参数;`];
}

const expectedSign = dingtalkSign;

function sameString(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

const isString = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const isHttp = (v: unknown): boolean => isString(v) && /^https?:\/\//.test(v);

/** The shape check of each message type; returns the missing parameter's name. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function shapeProblem(body: any): [number, string] | undefined {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return ERR.noJson as unknown as [number, string];
  const at = body.at;
  if (at !== undefined) {
    const strings = (v: unknown) => v === undefined || (Array.isArray(v) && v.every((x) => typeof x === 'string'));
    if (typeof at !== 'object' || at === null || !strings(at.atMobiles) || !strings(at.atUserIds) || (at.isAtAll !== undefined && typeof at.isAtAll !== 'boolean')) return missingParameter('at');
  }
  switch (body.msgtype) {
    case 'text':
      return isString(body.text?.content) ? undefined : missingParameter('text --》 content');
    case 'markdown':
      if (!isString(body.markdown?.title)) return missingParameter('markdown --》 title');
      return isString(body.markdown?.text) ? undefined : missingParameter('markdown --》 text');
    case 'link': {
      const l = body.link;
      for (const f of ['title', 'text'] as const) if (!isString(l?.[f])) return missingParameter(`link --》 ${f}`);
      return isHttp(l?.messageUrl) ? undefined : missingParameter('link --》 messageUrl');
    }
    case 'actionCard': {
      const c = body.actionCard;
      for (const f of ['title', 'text'] as const) if (!isString(c?.[f])) return missingParameter(`actionCard --》 ${f}`);
      if (isString(c.singleTitle) || c.singleURL !== undefined) return isString(c.singleTitle) && isHttp(c.singleURL) ? undefined : missingParameter('actionCard --》 singleURL');
      const ok = Array.isArray(c.btns) && c.btns.length > 0
        && c.btns.every((b: { title?: unknown; actionURL?: unknown }) => isString(b?.title) && isHttp(b?.actionURL));
      return ok ? undefined : missingParameter('actionCard --》 btns');
    }
    case 'feedCard': {
      const links = body.feedCard?.links;
      const ok = Array.isArray(links) && links.length > 0
        && links.every((l: { title?: unknown; messageURL?: unknown; picURL?: unknown }) =>
          isString(l?.title) && isHttp(l?.messageURL) && isHttp(l?.picURL));
      return ok ? undefined : missingParameter('feedCard --》 links');
    }
    default:
      return ERR.unsupported as unknown as [number, string];
  }
}

/** The text DingTalk searches for keywords. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function contentOf(body: any): string {
  switch (body.msgtype) {
    case 'text': return body.text.content;
    case 'markdown': return body.markdown.text;
    case 'link': return `${body.link.title}\n${body.link.text}`;
    case 'actionCard': return `${body.actionCard.title}\n${body.actionCard.text}`;
    case 'feedCard': return body.feedCard.links.map((l: { title: string }) => l.title).join('\n');
    default: return '';
  }
}

/** What DingTalk checks before it looks at a body: the token, the signature and its 1-hour window, the rate. */
export class SendGate {
  private readonly robots: Map<string, StandInRobot>;
  private readonly sendTimes = new Map<string, number[]>();
  private readonly throttledUntil = new Map<string, number>();

  constructor(
    robots: StandInRobot[],
    private readonly now: () => number,
    private readonly rate: { max: number; windowMs: number; throttleMs: number },
  ) {
    this.robots = new Map(robots.map((r) => [r.accessToken, r]));
  }

  robot(token: string): StandInRobot | undefined {
    return this.robots.get(token);
  }

  /** The verdict on one /robot/send request, before its body is looked at (token, signature, rate). */
  check(token: string | null, query: URLSearchParams): readonly [number, string] | undefined {
    if (!token) return ERR.tokenMissing;
    const robot = this.robots.get(token);
    if (!robot) return ERR.tokenUnknown;
    if (robot.secret) {
      const timestamp = query.get('timestamp');
      const sign = query.get('sign');
      if (!timestamp || !sign || !/^\d+$/.test(timestamp)) return ERR.signNotMatch;
      if (Math.abs(this.now() - Number(timestamp)) > HOUR) return ERR.invalidTimestamp;
      // URLSearchParams decoded the sign once; a sign that was encoded twice still has %2B etc. and fails here.
      if (!sameString(expectedSign(robot.secret, timestamp), sign)) return ERR.signNotMatch;
    }
    const t = this.now();
    if ((this.throttledUntil.get(token) ?? 0) > t) return ERR.tooFast;
    const recent = (this.sendTimes.get(token) ?? []).filter((at) => at > t - this.rate.windowMs);
    if (recent.length >= this.rate.max) {
      this.throttledUntil.set(token, t + this.rate.throttleMs);
      this.sendTimes.set(token, recent);
      return ERR.tooFast;
    }
    recent.push(t);
    this.sendTimes.set(token, recent);
    return undefined;
  }

  reset(): void {
    this.sendTimes.clear();
    this.throttledUntil.clear();
  }
}
