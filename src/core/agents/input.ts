// Input from a language model or another extension, checked before anything is shown or sent: which robot,
// what text, who is mentioned, how many messages to read. Errors are English l10n keys with `{0}`
// placeholders, so the VS Code side shows them in the user's language and the model reads them too.
import { parseMentions } from '../mentions';

/** A caller may send at most this many UTF-8 bytes (about five DingTalk messages); more is refused, not cut. */
export const MAX_AGENT_TEXT_BYTES = 100_000;
/** Markdown titles are what DingTalk shows in the chat list. */
export const MAX_TITLE_CHARS = 100;
export const MAX_MENTIONS = 20;
export const DEFAULT_READ_COUNT = 20;
export const MAX_READ_COUNT = 100;

/** Every error this module returns, by name: English l10n keys (the zh-CN bundle translates them). */
export const INPUT_ERRORS = {
  noRobot: 'No DingTalk robot is set up yet. Set one up in the DingTalk view first.',
  robotNotString: 'The robot must be given by its name.',
  unknownRobot: 'There is no DingTalk robot named "{0}". Robots: {1}.',
  disabledRobot: 'The DingTalk robot "{0}" is disabled. Robots: {1}.',
  notObjectSend: 'The input must be an object with at least "text".',
  badFormat: '"format" must be "text" or "markdown".',
  empty: 'The message is empty.',
  hidden: 'The message contains an invisible control character ({0}) that would hide what is sent. Remove it.',
  tooBig: 'The message is {0} bytes; at most {1} bytes can be sent at once.',
  titleNotString: '"title" must be a string.',
  titleNotLine: 'The title must be one line of visible text.',
  titleTooLong: 'The title is longer than {0} characters.',
  mentionsNotList: '"mentions" must be a list of phone numbers or DingTalk user ids.',
  tooManyMentions: 'At most {0} people can be mentioned in one message.',
  badMention: '"{0}" is not a phone number, a DingTalk user id or "all".',
  notObject: 'The input must be an object.',
  badCount: '"count" must be a whole number from 1 to {0}.',
  conversationNotString: '"conversation" must be a string.',
} as const;

export const INPUT_MESSAGES: readonly string[] = Object.values(INPUT_ERRORS);

export interface RobotRef {
  id: string;
  name: string;
  enabled: boolean;
}

export interface InputError {
  /** English text, an l10n key; `{0}`… are filled from `args`. */
  message: string;
  args: (string | number)[];
}

export type Checked<T> = { ok: true; value: T } | { ok: false; error: InputError };

export interface SendRequest<R extends RobotRef = RobotRef> {
  robot: R;
  format: 'text' | 'markdown';
  /** The text as it will be sent, with requested mentions that were not written in it appended. */
  text: string;
  title?: string;
}

export interface ReadRequest<R extends RobotRef = RobotRef> {
  /** Undefined: every robot. */
  robot?: R;
  conversation?: string;
  count: number;
}

const fail = (message: string, ...args: (string | number)[]): { ok: false; error: InputError } => ({ ok: false, error: { message, args } });

// Controls other than tab and newline, and bidirectional overrides: they would make the confirmation read
// differently from what the group receives.
const INVISIBLE_CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
const MOBILE = /^1\d{10}$/;
const USER_ID = /^[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?$/;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The robot named `name` (case-insensitive), or the default one when no name is given. */
export function resolveRobot<R extends RobotRef>(name: unknown, robots: readonly R[], defaultRobot: R | undefined): Checked<R> {
  if (name === undefined || name === null || (typeof name === 'string' && !name.trim())) {
    return defaultRobot ? { ok: true, value: defaultRobot } : fail(INPUT_ERRORS.noRobot);
  }
  if (typeof name !== 'string') return fail(INPUT_ERRORS.robotNotString);
  const wanted = name.trim().toLowerCase();
  const robot = robots.find((r) => r.name.toLowerCase() === wanted) ?? robots.find((r) => r.id === name.trim());
  const known = robots.filter((r) => r.enabled).map((r) => `"${r.name}"`).join(', ') || '-';
  if (!robot) return fail(INPUT_ERRORS.unknownRobot, oneLine(name, 60), known);
  if (!robot.enabled) return fail(INPUT_ERRORS.disabledRobot, robot.name, known);
  return { ok: true, value: robot };
}

/** Checks `{ robot?, text, format?, title?, mentions? }` and returns what will be sent. */
export function checkSendInput<R extends RobotRef>(
  input: unknown, robots: readonly R[], defaultRobot: R | undefined,
): Checked<SendRequest<R>> {
  if (!isRecord(input)) return fail(INPUT_ERRORS.notObjectSend);
  const robot = resolveRobot(input.robot, robots, defaultRobot);
  if (!robot.ok) return robot;
  const format = input.format ?? 'text';
  if (format !== 'text' && format !== 'markdown') return fail(INPUT_ERRORS.badFormat);
  if (typeof input.text !== 'string' || !input.text.trim()) return fail(INPUT_ERRORS.empty);
  const text = input.text.replace(/\r\n?/g, '\n');
  const hidden = hiddenCharacter(text);
  if (hidden) return fail(INPUT_ERRORS.hidden, hidden);
  const mentions = checkMentions(input.mentions);
  if (!mentions.ok) return mentions;
  const full = withMentions(text, mentions.value);
  const bytes = Buffer.byteLength(full, 'utf8');
  if (bytes > MAX_AGENT_TEXT_BYTES) return fail(INPUT_ERRORS.tooBig, bytes, MAX_AGENT_TEXT_BYTES);
  if (format === 'text') return { ok: true, value: { robot: robot.value, format, text: full } };
  if (input.title !== undefined && typeof input.title !== 'string') return fail(INPUT_ERRORS.titleNotString);
  const title = typeof input.title === 'string' && input.title.trim() ? input.title.trim() : undefined;
  if (title && (hiddenCharacter(title) || title.includes('\n'))) return fail(INPUT_ERRORS.titleNotLine);
  if (title && title.length > MAX_TITLE_CHARS) return fail(INPUT_ERRORS.titleTooLong, MAX_TITLE_CHARS);
  return { ok: true, value: { robot: robot.value, format, text: full, ...(title ? { title } : {}) } };
}

function checkMentions(raw: unknown): Checked<string[]> {
  if (raw === undefined || raw === null) return { ok: true, value: [] };
  if (!Array.isArray(raw) || raw.some((m) => typeof m !== 'string')) return fail(INPUT_ERRORS.mentionsNotList);
  const names = [...new Set((raw as string[]).map((m) => m.trim().replace(/^@/, '')).filter(Boolean))];
  if (names.length > MAX_MENTIONS) return fail(INPUT_ERRORS.tooManyMentions, MAX_MENTIONS);
  for (const name of names) {
    if (name !== '所有人' && !MOBILE.test(name) && !USER_ID.test(name)) {
      return fail(INPUT_ERRORS.badMention, oneLine(name, 40));
    }
  }
  return { ok: true, value: names };
}

/** DingTalk notifies only people whose @mention is written in the text: append the ones that are not. */
export function withMentions(text: string, mentions: readonly string[]): string {
  const written = parseMentions(text);
  const isWritten = (name: string) => (name === 'all' || name === '所有人' ? written.isAtAll
    : written.atMobiles.includes(name) || written.atUserIds.includes(name));
  const missing = mentions.filter((m) => !isWritten(m.toLowerCase() === 'all' ? 'all' : m));
  return missing.length ? `${text.trimEnd()}\n\n${missing.map((m) => `@${m}`).join(' ')}` : text;
}

/** Checks `{ robot?, conversation?, count? }` for reading received messages. */
export function checkReadInput<R extends RobotRef>(input: unknown, robots: readonly R[]): Checked<ReadRequest<R>> {
  const raw = input === undefined || input === null ? {} : input;
  if (!isRecord(raw)) return fail(INPUT_ERRORS.notObject);
  let robot: R | undefined;
  if (raw.robot !== undefined && raw.robot !== null && !(typeof raw.robot === 'string' && !raw.robot.trim())) {
    const found = resolveRobot(raw.robot, robots, undefined);
    if (!found.ok) return found;
    robot = found.value;
  }
  const count = raw.count ?? DEFAULT_READ_COUNT;
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > MAX_READ_COUNT) {
    return fail(INPUT_ERRORS.badCount, MAX_READ_COUNT);
  }
  const conversationGiven = raw.conversation !== undefined && raw.conversation !== null;
  if (conversationGiven && typeof raw.conversation !== 'string') return fail(INPUT_ERRORS.conversationNotString);
  const conversation = typeof raw.conversation === 'string' && raw.conversation.trim() ? raw.conversation.trim() : undefined;
  return { ok: true, value: { ...(robot ? { robot } : {}), ...(conversation ? { conversation } : {}), count } };
}

/** `U+202E` for the first hidden control character, or undefined. */
function hiddenCharacter(text: string): string | undefined {
  const found = INVISIBLE_CONTROLS.exec(text)?.[0];
  return found === undefined ? undefined : `U+${found.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** Text from a caller quoted back in an error: one line, no controls, shortened. */
function oneLine(text: string, max: number): string {
  const clean = text.replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]+/g, ' ').trim();
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}
