// Who may talk to VS Code through a robot: the DM policies (pairing, allowlist, open, disabled) and the
// pairing book that issues codes to unknown senders and remembers the ones the owner approved.
import { randomInt } from 'node:crypto';
import { constantTimeEqual } from '../signing';

export type DmPolicy = 'pairing' | 'allowlist' | 'open' | 'disabled';
export type Decision = 'accept' | 'reject' | 'pair';

export const DM_POLICIES: readonly DmPolicy[] = ['pairing', 'allowlist', 'open', 'disabled'];

/**
 * What to do with a message from `userId`:
 * - `disabled`: reject everything;
 * - `open`: accept everyone;
 * - `allowlist`: accept ids listed in `allowFrom` (`*` means anyone), reject the rest;
 * - `pairing`: accept `allowFrom` and approved senders, answer anybody else with a pairing code.
 * An unknown policy (a hand-edited setting) or an empty user id is rejected: fail closed.
 */
export function decide(
  policy: DmPolicy, allowFrom: readonly string[], approved: ReadonlySet<string> | readonly string[], userId: string,
): Decision {
  if (policy === 'open') return 'accept';
  if (policy !== 'allowlist' && policy !== 'pairing') return 'reject';
  if (typeof userId !== 'string' || !userId.trim()) return 'reject';
  const listed = (allowFrom ?? []).some((entry) => typeof entry === 'string' && (entry.trim() === '*' || entry.trim() === userId));
  if (listed) return 'accept';
  if (policy === 'allowlist') return 'reject';
  const known = approved instanceof Set ? approved.has(userId) : (approved as readonly string[]).includes(userId);
  return known ? 'accept' : 'pair';
}

export const PAIRING_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
export const PAIRING_CODE_LENGTH = 8;
export const PAIRING_TTL_MS = 60 * 60 * 1000;
export const MAX_PENDING = 3;

/** 8 characters, each drawn uniformly (crypto.randomInt rejects biased samples) from the 32-letter alphabet. */
export function newPairingCode(): string {
  let code = '';
  for (let i = 0; i < PAIRING_CODE_LENGTH; i++) code += PAIRING_ALPHABET[randomInt(PAIRING_ALPHABET.length)];
  return code;
}

/** Upper-cases and drops blanks and dashes, so `abcd-2345 efgh` as typed by a person still matches. */
export function normalizeCode(code: string): string {
  return String(code).toUpperCase().replace(/[\s-]+/g, '');
}

const CODE_PATTERN = new RegExp(`^[${PAIRING_ALPHABET}]{${PAIRING_CODE_LENGTH}}$`);

export interface PendingPairing {
  code: string;
  userId: string;
  nick: string;
  createdAt: number;
  expiresAt: number;
}

export interface ApprovedSender {
  userId: string;
  nick: string;
  approvedAt: number;
}

export type PairingRequest = { code: string; isNew: boolean } | { refused: 'tooManyPending' };

/** What toJSON writes and fromJSON reads (arrays, not objects keyed by id: ids never become property names). */
export interface PairingBookJSON {
  version: 1;
  robots: { robotId: string; pending: PendingPairing[]; approved: ApprovedSender[] }[];
}

interface RobotBook {
  pending: PendingPairing[];
  approved: Map<string, ApprovedSender>;
}

export class PairingBook {
  private readonly robots = new Map<string, RobotBook>();

  private book(robotId: string): RobotBook {
    let book = this.robots.get(robotId);
    if (!book) {
      book = { pending: [], approved: new Map() };
      this.robots.set(robotId, book);
    }
    return book;
  }

  private prune(book: RobotBook, now: number): void {
    book.pending = book.pending.filter((p) => p.expiresAt > now);
  }

  /** The pending request whose code matches, comparing against every code so timing says little. */
  private find(book: RobotBook, code: string): PendingPairing | undefined {
    const wanted = normalizeCode(code);
    let found: PendingPairing | undefined;
    for (const p of book.pending) if (constantTimeEqual(p.code, wanted) && !found) found = p;
    return found;
  }

  /**
   * An unknown sender asks to pair. A sender who already has a pending request gets the same code again
   * (`isNew: false`); otherwise a new code valid for one hour, unless the robot already has 3 pending requests.
   */
  request(robotId: string, userId: string, nick: string, now: number): PairingRequest {
    const book = this.book(robotId);
    this.prune(book, now);
    const existing = book.pending.find((p) => p.userId === userId);
    if (existing) {
      if (nick) existing.nick = nick;
      return { code: existing.code, isNew: false };
    }
    if (book.pending.length >= MAX_PENDING) return { refused: 'tooManyPending' };
    let code: string;
    do code = newPairingCode();
    while (book.pending.some((p) => p.code === code));
    book.pending.push({ code, userId, nick: nick ?? '', createdAt: now, expiresAt: now + PAIRING_TTL_MS });
    return { code, isNew: true };
  }

  /** The owner approves a code: the sender moves to the approved list and is returned; unknown or expired → undefined. */
  approve(robotId: string, code: string, now: number): ApprovedSender | undefined {
    const book = this.robots.get(robotId);
    if (!book) return undefined;
    this.prune(book, now);
    const request = this.find(book, code);
    if (!request) return undefined;
    book.pending = book.pending.filter((p) => p !== request);
    const sender: ApprovedSender = { userId: request.userId, nick: request.nick, approvedAt: now };
    book.approved.set(sender.userId, sender);
    return sender;
  }

  /** The owner refuses a code. True if there was such a pending request. */
  deny(robotId: string, code: string): boolean {
    const book = this.robots.get(robotId);
    const request = book && this.find(book, code);
    if (!book || !request) return false;
    book.pending = book.pending.filter((p) => p !== request);
    return true;
  }

  /** Requests still waiting, oldest first. */
  pending(robotId: string, now: number): PendingPairing[] {
    const book = this.robots.get(robotId);
    if (!book) return [];
    this.prune(book, now);
    return book.pending.map((p) => ({ ...p }));
  }

  /** User ids approved for this robot, in approval order. */
  approved(robotId: string): string[] {
    return [...(this.robots.get(robotId)?.approved.keys() ?? [])];
  }

  /** Approved senders with their nick and approval time. */
  approvedSenders(robotId: string): ApprovedSender[] {
    return [...(this.robots.get(robotId)?.approved.values() ?? [])].map((s) => ({ ...s }));
  }

  isApproved(robotId: string, userId: string): boolean {
    return this.robots.get(robotId)?.approved.has(userId) ?? false;
  }

  /** Takes an approval back. True if the sender was approved. */
  revoke(robotId: string, userId: string): boolean {
    return this.robots.get(robotId)?.approved.delete(userId) ?? false;
  }

  /** Forgets a robot entirely (it was removed). */
  forgetRobot(robotId: string): void {
    this.robots.delete(robotId);
  }

  toJSON(): PairingBookJSON {
    const robots: PairingBookJSON['robots'] = [];
    for (const [robotId, book] of this.robots) {
      if (book.pending.length === 0 && book.approved.size === 0) continue;
      robots.push({ robotId, pending: book.pending.map((p) => ({ ...p })), approved: [...book.approved.values()].map((s) => ({ ...s })) });
    }
    return { version: 1, robots };
  }

  /** Reads what toJSON wrote. Never throws: anything malformed (or from another version) is skipped. */
  static fromJSON(json: unknown): PairingBook {
    const result = new PairingBook();
    if (!isRecord(json) || json.version !== 1 || !Array.isArray(json.robots)) return result;
    for (const entry of json.robots) {
      if (!isRecord(entry) || typeof entry.robotId !== 'string') continue;
      const book = result.book(entry.robotId);
      for (const s of Array.isArray(entry.approved) ? entry.approved : []) {
        if (!isRecord(s) || typeof s.userId !== 'string' || !s.userId) continue;
        book.approved.set(s.userId, {
          userId: s.userId,
          nick: typeof s.nick === 'string' ? s.nick : '',
          approvedAt: typeof s.approvedAt === 'number' && Number.isFinite(s.approvedAt) ? s.approvedAt : 0,
        });
      }
      for (const p of Array.isArray(entry.pending) ? entry.pending : []) {
        if (book.pending.length >= MAX_PENDING) break;
        if (!isRecord(p) || typeof p.code !== 'string' || !CODE_PATTERN.test(p.code)) continue;
        if (typeof p.userId !== 'string' || !p.userId || book.approved.has(p.userId)) continue;
        if (typeof p.createdAt !== 'number' || typeof p.expiresAt !== 'number' || !Number.isFinite(p.createdAt) || !Number.isFinite(p.expiresAt)) continue;
        if (book.pending.some((q) => q.code === p.code || q.userId === p.userId)) continue;
        // A stored expiry is never trusted beyond the one-hour validity.
        const expiresAt = Math.min(p.expiresAt, p.createdAt + PAIRING_TTL_MS);
        book.pending.push({ code: p.code, userId: p.userId, nick: typeof p.nick === 'string' ? p.nick : '', createdAt: p.createdAt, expiresAt });
      }
    }
    return result;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
