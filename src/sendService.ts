// Every message to DingTalk goes through here: split to DingTalk's size limit, queued per robot (persisted,
// so a window reload loses nothing), rate limited, signed and posted by the core client. Also remembers
// each robot's last result for the status views.
import * as vscode from 'vscode';
import * as path from 'node:path';
import type { ProbeOutcome, RobotClient, SendOutcome } from './core/client';
import { DingTalkProblem, OFFLINE_PROBLEMS, problem, SETUP_PROBLEMS } from './core/errors';
import type { JobOutcome, Outbox } from './core/send/outbox/outbox';
import type { OutboxJob, SenderInfo, SentRecord } from './core/send/outbox/state';
import { bodyBytes, RobotMessage, validateMessage } from './core/messages';
import { splitForKeywords } from './core/split/keywords';
import type { FormField, StatusMessage } from './shared/onboardingProtocol';
import type { Log } from './log';
import { vscodeDispatchers } from './network';
import { RobotConfig, RobotCredentials, RobotStore } from './robots';
import { errorMessage } from './core/text/errorMessage';
import { watchNetwork } from './core/net/networkWatch';

export interface LastResult {
  ok: boolean;
  at: number;
  text: string;
}

export interface QueueState {
  sending: boolean;
  waiting: number;
  uncertain: number;
  failed: number;
  etaMs: number;
  /** Milliseconds until the next waiting message may go. */
  nextInMs?: number;
  /** Waiting because the last try never reached DingTalk (offline, proxy, certificate): tried again by itself. */
  offline: number;
  /** Why the last of those tries failed. */
  offlineReason?: DingTalkProblem;
  /** The window that posts for this machine. */
  sender?: SenderInfo & { self: boolean };
}

/** A try that never reached DingTalk (the machine, its network or its setup is the cause). */
const notReached = (kind: DingTalkProblem['kind']) => OFFLINE_PROBLEMS.has(kind) || SETUP_PROBLEMS.has(kind);


export type TestOutcome = { ok: true } | { ok: false; text: string; field?: FormField };

const LAST_RESULT_KEY = 'dingtalk.lastResults';

export type { JobOutcome };
export type SendResult = JobOutcome & { parts: number; jobId: string };

/** The parts DingTalk will receive from this robot (split to fit, each with one of its keywords). */
export function partsFor(robot: RobotConfig, message: RobotMessage): RobotMessage[] {
  return splitForKeywords(message, robot.keywords);
}

/** The form field a credential problem points at, so the view can highlight it. */
function fieldFor(problem: DingTalkProblem): FormField | undefined {
  switch (problem.kind) {
    case 'signMismatch': return 'secret';
    case 'tokenUnknown': return 'webhookUrl';
    case 'keywordMissing': return 'keywords';
    default: return undefined;
  }
}

/** DingTalk's explanation in the user's language (the core's messages are the bundle's keys). */
export function problemText(problem: DingTalkProblem): string {
  const text = vscode.l10n.t(problem.message, ...(problem.args ?? []));
  return problem.errcode !== undefined ? `${text} (${problem.errcode})` : text;
}

export class SendService implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private client?: RobotClient;
  private queue?: Outbox;
  private queueReady?: Promise<Outbox>;
  private stopWatchingNetwork?: () => void;
  private sending = 0;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly robots: RobotStore,
    private readonly log: Log,
  ) {}

  /** The undici-based client is loaded on first use, keeping activation fast. */
  private async getClient(): Promise<RobotClient> {
    if (!this.client) {
      const { RobotClient: Client } = await import('./core/client');
      const timeoutMs = vscode.workspace.getConfiguration('dingtalk').get<number>('send.timeoutSeconds', 10) * 1000;
      this.client = new Client({ dispatcherFor: await vscodeDispatchers(timeoutMs, this.log), timeoutMs });
    }
    return this.client;
  }

  /** Starts the machine's shared outbox (resuming messages left from before a reload, in any window). */
  ensureQueue(): Promise<Outbox> {
    this.queueReady ??= (async () => {
      const { Outbox: OutboxClass } = await import('./core/send/outbox/outbox');
      const storage = this.context.globalStorageUri.fsPath;
      const outbox = new OutboxClass({
        dir: storage,
        legacyFile: path.join(storage, 'queue.json'),
        label: vscode.workspace.name ?? vscode.l10n.t('a window without a folder'),
        send: (robotId, message) => this.sendNow(robotId, message),
      });
      let sending = false;
      const noteSender = () => {
        if (outbox.isSender === sending) return;
        sending = outbox.isSender;
        this.log.info(`outbox: this window (extension host ${process.pid}) ${sending ? 'now sends for every window of this machine' : 'no longer sends'}`);
      };
      outbox.onChange(() => {
        noteSender();
        this.changed.fire();
      });
      outbox.onError((error) => this.log.error(`outbox: ${errorMessage(error)}`));
      this.queue = outbox;
      // Only the window that sends watches: it is the one that tries again.
      this.stopWatchingNetwork = watchNetwork({
        active: () => outbox.isSender && this.state().offline > 0,
        onChange: () => {
          this.log.info('network: this computer\'s addresses changed; messages waiting offline are tried now');
          void outbox.networkChanged().catch((error: unknown) => this.log.error(`outbox: ${errorMessage(error)}`));
        },
      });
      await outbox.start();
      this.log.info(`outbox: shared by every window; this window (extension host ${process.pid}) ${outbox.isSender ? 'sends' : 'follows'}`);
      sending = outbox.isSender;
      return outbox;
    })();
    return this.queueReady;
  }

  /** Logs and remembers what became of a message this window queued, whichever window sent it. */
  private reportOutcome(job: OutboxJob, outcome: JobOutcome): void {
    const robotName = this.robots.get(job.robotId)?.name ?? job.robotId;
    if (outcome.ok) {
      this.log.info(`delivered ${job.label} to ${robotName} (${job.parts.length} part(s))`);
      this.record(job.robotId, { ok: true, at: Date.now(), text: vscode.l10n.t('delivered') });
    } else if (outcome.problem.kind === 'mayHaveBeenDelivered') {
      this.log.warn(`may have been delivered: ${job.label} to ${robotName}: no answer after the request was sent (${outcome.problem.errmsg ?? ''}); kept in the outbox, not sent again by itself`);
      this.record(job.robotId, { ok: false, at: Date.now(), text: problemText(outcome.problem) });
    } else if (outcome.retryAt !== undefined) {
      this.log.warn(`not yet delivered: ${job.label} to ${robotName}: ${outcome.problem.message} (${outcome.problem.errcode ?? outcome.problem.errmsg ?? ''}); next try ${new Date(outcome.retryAt).toISOString()}`);
    } else {
      this.log.error(`not delivered: ${job.label} to ${robotName}: ${outcome.problem.message} (errcode ${outcome.problem.errcode ?? '-'})`);
      this.record(job.robotId, { ok: false, at: Date.now(), text: problemText(outcome.problem) });
    }
  }

  /** One signed POST of one part, used by the queue. */
  private async sendNow(robotId: string, message: RobotMessage): Promise<SendOutcome> {
    const robot = this.robots.get(robotId);
    const credentials = robot ? await this.robots.credentials(robotId) : undefined;
    if (!robot || !credentials) {
      return { ok: false, attempts: 0, bytes: 0, problem: problem('notConfigured', 'no') };
    }
    this.sending++;
    this.changed.fire();
    try {
      const outcome = await (await this.getClient()).send(credentials, message);
      this.log.info(`send ${message.msgtype} to ${robot.name}: ${outcome.bytes} bytes, ${outcome.attempts} attempt(s), ${outcome.ok ? 'ok' : `errcode ${outcome.problem.errcode ?? '-'} ${outcome.problem.message}`}`);
      return outcome;
    } finally {
      this.sending--;
      this.changed.fire();
    }
  }

  /**
   * Queues a message for a robot (split into parts when it is over DingTalk's size limit) and resolves
   * when it was delivered or failed. The message stays queued on failure until retried or discarded.
   */
  async send(robot: RobotConfig, message: RobotMessage, label: string): Promise<SendResult> {
    const invalid = validateMessage(message);
    if (invalid.length > 0) throw new Error(invalid.join('; '));
    const parts = partsFor(robot, message);
    const queue = await this.ensureQueue();
    const job = await queue.enqueue(robot.id, parts, label);
    // Logged once stored: from here on the message survives this window.
    this.log.info(`queue ${message.msgtype} for ${robot.name}: ${bodyBytes(message)} bytes in ${parts.length} part(s)`);
    const result = await queue.waitFor(job.id);
    this.reportOutcome(job, result);
    return { ...result, parts: parts.length, jobId: job.id };
  }

  async retry(jobId: string): Promise<void> {
    await (await this.ensureQueue()).retry(jobId);
  }

  async discard(jobId: string): Promise<void> {
    await (await this.ensureQueue()).discard(jobId);
    this.log.info(`discarded queued message ${jobId}`);
  }

  /** Sends a test message straight away with credentials that are not stored yet (onboarding). */
  async sendTestMessage(robot: RobotConfig, credentials: RobotCredentials): Promise<TestOutcome> {
    const keyword = robot.keywords[0] ? `${robot.keywords[0]} ` : '';
    const message = { msgtype: 'text' as const, text: { content: `${keyword}${vscode.l10n.t('✅ DingTalk for VS Code is connected: robot "{0}" can post to this group.', robot.name)}` } };
    const full = await this.takeSlot(robot.id);
    if (full) return { ok: false, text: problemText(full) };
    const outcome = await (await this.getClient()).send(credentials, message);
    this.log.info(`test message for ${robot.name}: ${outcome.ok ? 'delivered' : `errcode ${outcome.problem.errcode ?? '-'} ${outcome.problem.message}`}`);
    this.record(robot.id, outcome.ok ? { ok: true, at: Date.now(), text: vscode.l10n.t('test message delivered') } : { ok: false, at: Date.now(), text: problemText(outcome.problem) });
    return outcome.ok ? { ok: true } : { ok: false, text: problemText(outcome.problem), field: fieldFor(outcome.problem) };
  }

  /** Posts a request DingTalk must refuse, to learn whether token and signature are accepted without posting into the group. */
  async probe(robotId: string, credentials: RobotCredentials): Promise<ProbeOutcome> {
    const full = await this.takeSlot(robotId);
    if (full) return { ok: false, problem: full };
    return (await this.getClient()).probe(credentials);
  }

  /**
   * One request from the robot's budget, shared with every window and the outbox: DingTalk counts probes,
   * test messages and replies too. Waits for a free slot up to a minute; a problem when there is none.
   */
  private async takeSlot(robotId: string): Promise<DingTalkProblem | undefined> {
    try {
      await (await this.ensureQueue()).acquireSlot(robotId);
      return undefined;
    } catch (error) {
      if (error instanceof RangeError) return problem('rateLimited', 'rateLimited', { errmsg: error.message });
      throw error;
    }
  }

  /** A reply through a conversation's session webhook, within the robot's rate window. */
  async reply(robot: RobotConfig, sessionWebhook: string, message: RobotMessage): Promise<SendOutcome> {
    // DingTalk documents no budget of its own for session webhooks: replies count in the robot's.
    const full = await this.takeSlot(robot.id);
    if (full) return { ok: false, attempts: 0, bytes: 0, problem: full };
    const outcome = await (await this.getClient()).postJson(sessionWebhook, message);
    this.log.info(`reply ${message.msgtype} via ${robot.name}: ${outcome.bytes} bytes, ${outcome.ok ? 'ok' : `errcode ${outcome.problem.errcode ?? '-'} ${outcome.problem.message}`}`);
    return outcome;
  }

  lastResult(robotId: string): LastResult | undefined {
    return this.context.globalState.get<Record<string, LastResult>>(LAST_RESULT_KEY, {})[robotId];
  }

  private record(robotId: string, result: LastResult): void {
    const all = { ...this.context.globalState.get<Record<string, LastResult>>(LAST_RESULT_KEY, {}), [robotId]: result };
    void this.context.globalState.update(LAST_RESULT_KEY, all);
    this.changed.fire();
  }

  forget(robotId: string): void {
    const all = { ...this.context.globalState.get<Record<string, LastResult>>(LAST_RESULT_KEY, {}) };
    delete all[robotId];
    void this.context.globalState.update(LAST_RESULT_KEY, all);
  }

  /** Outbox numbers for the status bar and Show Queue (shared by every window). */
  state(robotId?: string): QueueState {
    const stats = this.queue?.stats(robotId);
    const offline = this.jobs(robotId).filter((j) => j.state === 'waiting' && j.lastProblem && notReached(j.lastProblem.kind));
    return {
      offline: offline.length,
      offlineReason: offline.at(-1)?.lastProblem,
      sending: this.sending > 0,
      waiting: stats?.waiting ?? 0,
      uncertain: stats?.uncertain ?? 0,
      failed: stats?.failed ?? 0,
      etaMs: stats?.etaMs ?? 0,
      nextInMs: stats?.nextInMs,
      sender: this.queue?.sender(),
    };
  }

  /** The folder of the machine's shared outbox (global storage), for the Outbox view's rate windows. */
  get outboxDir(): string {
    return this.context.globalStorageUri.fsPath;
  }

  jobs(robotId?: string): OutboxJob[] {
    return this.queue?.jobs(robotId) ?? [];
  }

  /** The last delivered messages on this machine (at most 50), newest last. */
  sent(): SentRecord[] {
    return this.queue?.sent() ?? [];
  }

  /** Lets a request in flight finish and be recorded, then hands the outbox to another window (bounded). */
  async close(): Promise<void> {
    await this.queue?.close();
  }

  dispose(): void {
    this.stopWatchingNetwork?.();
    void this.queue?.close();
    this.changed.dispose();
  }
}

export type { StatusMessage };
