// What the language-model tool and the exported API share: check the input, build the exact parts DingTalk
// will receive (the same split and keyword rules as the commands), describe them for a confirmation, and
// send them through the outbox, reporting delivered / queued / refused.
import * as vscode from 'vscode';
import { checkSendInput, InputError, SendRequest } from '../core/agents/input';
import { parseMentions } from '../core/mentions';
import { markdownMessage, messageTextForKeywords, RobotMessage, textMessage } from '../core/messages';
import type { RobotConfig, RobotStore } from '../robots';
import { problemText, SendService } from '../sendService';
import { splitForKeywords } from '../core/split/keywords';
import type { Outcome } from './api';
import { errorMessage } from '../core/text/errorMessage';
import { describeFindings, secretGuard } from '../send/secretScan';

/** How long a caller waits for a queued message before hearing "queued" (it is still sent later). */
const WAIT_FOR_DELIVERY_MS = 20_000;

export interface PreparedSend {
  robot: RobotConfig;
  request: SendRequest<RobotConfig>;
  message: RobotMessage;
  parts: RobotMessage[];
}

export function inputErrorText(error: InputError): string {
  return vscode.l10n.t(error.message, ...error.args);
}

/** Checks the input and builds the parts, or says what is wrong. Side-effect free. */
export type Prepared = { ok: true; value: PreparedSend } | { ok: false; reason: string };

export async function prepareSend(input: unknown, robots: RobotStore): Promise<Prepared> {
  const checked = checkSendInput(input, robots.list(), robots.defaultRobot());
  if (!checked.ok) return { ok: false, reason: inputErrorText(checked.error) };
  const request = checked.value;
  let message: RobotMessage;
  if (request.format === 'markdown') {
    const { firstHeading, toDingTalkMarkdown } = await import('../core/markdown');
    const title = request.title ?? firstHeading(request.text) ?? request.text.split('\n')[0].replace(/^[#>\-*\s]+/, '').slice(0, 40);
    message = markdownMessage(title || request.robot.name, toDingTalkMarkdown(request.text));
  } else {
    message = textMessage(request.text);
  }
  try {
    return { ok: true, value: { robot: request.robot, request, message, parts: splitForKeywords(message, request.robot.keywords) } };
  } catch (error) {
    return { ok: false, reason: cannotSend(error) };
  }
}

/** "@13800138000, @alice" / "everyone in the group (@all)" / "nobody". */
export function notifiedText(text: string): string {
  const mentions = parseMentions(text);
  const people = [...mentions.atMobiles, ...mentions.atUserIds].map((m) => `@${m}`);
  if (mentions.isAtAll) people.unshift(vscode.l10n.t('everyone in the group (@all)'));
  return people.length ? people.join(', ') : vscode.l10n.t('nobody');
}

/** The text of a part as DingTalk receives it (markdown: the title on its own line first). */
export function partText(part: RobotMessage): string {
  if (part.msgtype === 'text') return part.text.content;
  if (part.msgtype === 'markdown') return part.markdown.text;
  return JSON.stringify(part, null, 2);
}

function cannotSend(error: unknown): string {
  return vscode.l10n.t('This message cannot be sent: {0}', errorMessage(error));
}

/** A warning when a keyword robot would refuse a part (none of its keywords in it), else undefined. */
export function keywordWarning(robot: RobotConfig, parts: readonly RobotMessage[]): string | undefined {
  const hasKeyword = (part: RobotMessage) => robot.keywords.some((k) => messageTextForKeywords(part).includes(k));
  if (robot.keywords.length === 0 || parts.every(hasKeyword)) return undefined;
  const keywords = robot.keywords.join(', ');
  return vscode.l10n.t('Robot "{0}" uses keyword security and this message contains none of its keywords ({1}). DingTalk will refuse it.', robot.name, keywords);
}

/** The secrets the scan finds in the message, one line each (masked, with their line); empty when none or off. */
export async function secretLines(prepared: PreparedSend): Promise<string[]> {
  return describeFindings(await secretGuard.find(prepared.message));
}

/**
 * The secret scan every command's message goes through: unchanged when nothing is found, redacted or as it is
 * when the user says so, or undefined when the user cancels (or the dialog cannot be shown: nothing unconfirmed goes).
 */
export async function guardSecrets(prepared: PreparedSend): Promise<PreparedSend | undefined> {
  const message = await secretGuard.check(prepared.message).catch(() => undefined);
  if (!message) return undefined;
  if (message === prepared.message) return prepared;
  return { ...prepared, message, parts: splitForKeywords(message, prepared.robot.keywords) };
}

export function secretsDeclined(): string {
  return vscode.l10n.t('The message contains secrets and the user cancelled it. Nothing was sent.');
}

/** Queues the message and waits (up to 20 s, or until cancelled) for DingTalk's answer. */
export async function sendPrepared(
  sending: SendService, prepared: PreparedSend, label: string, token?: vscode.CancellationToken,
): Promise<Outcome> {
  const robot = prepared.robot.name;
  const parts = prepared.parts.length;
  const sent = sending.send(prepared.robot, prepared.message, label);
  let timer: NodeJS.Timeout | undefined;
  const waited = new Promise<'waiting'>((resolve) => {
    timer = setTimeout(() => resolve('waiting'), WAIT_FOR_DELIVERY_MS);
    token?.onCancellationRequested(() => resolve('waiting'));
  });
  try {
    const result = await Promise.race([sent, waited]);
    if (result === 'waiting') {
      const eta = sending.state(prepared.robot.id).etaMs;
      return { status: 'queued', robot, parts, ...(eta > 0 ? { retryAt: Date.now() + eta } : {}) };
    }
    if (result.ok) return { status: 'delivered', robot, parts };
    const reason = problemText(result.problem);
    if (result.retryAt !== undefined) return { status: 'queued', robot, parts, retryAt: result.retryAt, reason };
    const { errcode } = result.problem;
    return { status: 'refused', robot, reason, ...(errcode !== undefined ? { errcode } : {}) };
  } catch (error) {
    return { status: 'invalid', reason: cannotSend(error) };
  } finally {
    clearTimeout(timer);
  }
}
