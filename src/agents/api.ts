// The API `activate()` returns to other extensions (documented in docs/api.md). Types only: callers may
// copy this file.

/** A configured robot as other extensions see it: no ids, URLs or secrets. */
export interface RobotSummary {
  name: string;
  isDefault: boolean;
  enabled: boolean;
  /** The robot uses keyword security: every message must contain one of `keywords`. */
  keywords: string[];
}

export interface ApiMessage {
  text: string;
  /** `text` (default) or `markdown`. */
  format?: 'text' | 'markdown';
  /** Markdown only: the title the chat list shows (default: the first heading or line). */
  title?: string;
  /** Phone numbers or DingTalk user ids to notify, or `all`; added to the text as @mentions if missing. */
  mentions?: string[];
}

/**
 * What happened to a message:
 * - `delivered`: DingTalk accepted every part;
 * - `queued`: not sent yet (rate limit, network); it stays in the outbox and is sent by `retryAt` if known;
 * - `refused`: DingTalk refused it (`reason`, `errcode`); it is kept in the outbox for the user to retry or discard;
 * - `declined`: the user did not confirm it; nothing was sent;
 * - `invalid`: the robot or message is wrong (`reason`); nothing was sent.
 */
export type Outcome =
  | { status: 'delivered'; robot: string; parts: number }
  | { status: 'queued'; robot: string; parts: number; retryAt?: number; reason?: string }
  | { status: 'refused'; robot: string; reason: string; errcode?: number }
  | { status: 'declined'; reason: string }
  | { status: 'invalid'; reason: string };

export interface DingTalkApi {
  /** 1 for this shape. */
  readonly version: 1;
  /** Configured robots, the default first. */
  robots(): RobotSummary[];
  /**
   * Sends `message` (a string is plain text) to the robot called `robotName` (undefined: the default robot).
   * The user confirms every message in a modal that shows its exact text, unless the calling extension is
   * listed in the user's `dingtalk.api.trustedExtensions` setting. Like every message, it is scanned for secrets
   * first; when the user cancels there, the outcome is `declined`.
   */
  send(robotName: string | undefined, message: string | ApiMessage): Promise<Outcome>;
}
