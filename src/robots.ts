// The robots a user has set up: names and policies in (machine-scoped) settings, the webhook URL with its
// access token and the signing secret only in SecretStorage, keyed by a stable robot id.
import { randomUUID } from 'node:crypto';
import * as vscode from 'vscode';

import { DM_POLICIES, DmPolicy } from './core/gateway/policy';

export { DM_POLICIES, DmPolicy };

export interface RobotConfig {
  id: string;
  name: string;
  enabled: boolean;
  dmPolicy: DmPolicy;
  allowFrom: string[];
  keywords: string[];
  /** Stream mode: the app's Client ID (its secret is in SecretStorage). */
  clientId?: string;
}

export interface RobotCredentials {
  webhookUrl: string;
  secret?: string;
}

/** Secrets a robot may hold; all are deleted with the robot. */
export type SecretKind = 'webhookUrl' | 'secret' | 'appSecret' | 'outgoingToken' | 'clientSecret';
const SECRET_KINDS: SecretKind[] = ['webhookUrl', 'secret', 'appSecret', 'outgoingToken', 'clientSecret'];

const SECTION = 'dingtalk';

function normalise(raw: unknown): RobotConfig | undefined {
  if (!raw || typeof raw !== 'object') return undefined;
  const r = raw as Partial<RobotConfig>;
  if (typeof r.id !== 'string' || !r.id) return undefined;
  const strings = (value: unknown) => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string' && v.trim() !== '').map((v) => v.trim()) : []);
  return {
    id: r.id,
    name: typeof r.name === 'string' && r.name.trim() ? r.name.trim() : r.id,
    enabled: r.enabled !== false,
    dmPolicy: DM_POLICIES.includes(r.dmPolicy as DmPolicy) ? (r.dmPolicy as DmPolicy) : 'pairing',
    allowFrom: strings(r.allowFrom),
    keywords: strings(r.keywords),
    ...(typeof r.clientId === 'string' && r.clientId.trim() ? { clientId: r.clientId.trim() } : {}),
  };
}

export class RobotStore implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private readonly subscriptions: vscode.Disposable[] = [this.changed];

  /** The robots as last read from settings: the gateway looks one up for every callback it receives. */
  private cached?: readonly RobotConfig[];

  constructor(private readonly secrets: vscode.SecretStorage) {
    this.subscriptions.push(vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration(`${SECTION}.robots`)) this.cached = undefined;
      if (e.affectsConfiguration(`${SECTION}.robots`) || e.affectsConfiguration(`${SECTION}.defaultRobot`)) this.changed.fire();
    }));
  }

  static newId(): string {
    return `robot-${randomUUID().slice(0, 8)}`;
  }

  /** The robots (a new array; the robots in it are frozen and shared, change them with `save`/`update`). */
  list(): RobotConfig[] {
    return [...this.robots()];
  }

  private robots(): readonly RobotConfig[] {
    if (this.cached) return this.cached;
    const raw = vscode.workspace.getConfiguration(SECTION).get<unknown[]>('robots', []);
    const seen = new Set<string>();
    const robots = (Array.isArray(raw) ? raw : []).map(normalise)
      .filter((r): r is RobotConfig => !!r && !seen.has(r.id) && !!seen.add(r.id));
    for (const robot of robots) Object.freeze(robot);
    this.cached = robots;
    return robots;
  }

  get(id: string): RobotConfig | undefined {
    return this.robots().find((r) => r.id === id);
  }

  defaultId(): string | undefined {
    return vscode.workspace.getConfiguration(SECTION).get<string>('defaultRobot') || undefined;
  }

  /** The default robot if it is enabled, else the first enabled one. */
  defaultRobot(): RobotConfig | undefined {
    const enabled = this.list().filter((r) => r.enabled);
    return enabled.find((r) => r.id === this.defaultId()) ?? enabled[0];
  }

  /** Enabled robots, the default first. */
  sendTargets(): RobotConfig[] {
    const first = this.defaultRobot();
    return this.list().filter((r) => r.enabled).sort((a, b) => Number(b.id === first?.id) - Number(a.id === first?.id));
  }

  async credentials(id: string): Promise<RobotCredentials | undefined> {
    const webhookUrl = await this.secrets.get(secretKey(id, 'webhookUrl'));
    if (!webhookUrl) return undefined;
    const secret = await this.secrets.get(secretKey(id, 'secret'));
    return { webhookUrl, secret: secret || undefined };
  }

  getSecret(id: string, kind: SecretKind): Thenable<string | undefined> {
    return this.secrets.get(secretKey(id, kind));
  }

  async setSecret(id: string, kind: SecretKind, value: string | undefined): Promise<void> {
    if (value) await this.secrets.store(secretKey(id, kind), value);
    else await this.secrets.delete(secretKey(id, kind));
  }

  /** Adds or updates a robot. Secrets are stored first, so a robot in settings always has its secrets. */
  async save(robot: RobotConfig, credentials?: { webhookUrl: string; secret?: string }): Promise<void> {
    if (credentials) {
      await this.setSecret(robot.id, 'webhookUrl', credentials.webhookUrl);
      await this.setSecret(robot.id, 'secret', credentials.secret);
    }
    const robots = this.list();
    const at = robots.findIndex((r) => r.id === robot.id);
    if (at >= 0) robots[at] = robot;
    else robots.push(robot);
    await this.writeRobots(robots);
    if (!this.defaultId() || !this.get(this.defaultId()!)) await this.setDefault(robot.id);
  }

  async update(id: string, change: Partial<Omit<RobotConfig, 'id'>>): Promise<void> {
    const robot = this.get(id);
    if (robot) await this.save({ ...robot, ...change });
  }

  async setDefault(id: string): Promise<void> {
    await this.write('defaultRobot', id);
  }

  /** Removes the robot from settings, then deletes every secret it had. */
  async remove(id: string): Promise<void> {
    const robots = this.list().filter((r) => r.id !== id);
    await this.writeRobots(robots);
    if (this.defaultId() === id) await this.setDefault(robots[0]?.id ?? '');
    for (const kind of SECRET_KINDS) await this.secrets.delete(secretKey(id, kind));
  }

  private async writeRobots(robots: RobotConfig[]): Promise<void> {
    await this.write('robots', robots);
  }

  /**
   * Writes a machine setting and waits until this extension host reads it back: in a remote window the
   * write resolves before the new value arrives, and a send right after saving a robot must see it.
   */
  private async write(key: string, value: unknown): Promise<void> {
    const expected = JSON.stringify(value);
    const current = () => JSON.stringify(vscode.workspace.getConfiguration(SECTION).get(key));
    let listener: vscode.Disposable | undefined;
    let timer: NodeJS.Timeout | undefined;
    const applied = new Promise<void>((resolve) => {
      listener = vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration(`${SECTION}.${key}`) && current() === expected) resolve();
      });
      timer = setTimeout(resolve, 5_000); // never hang a save on a missed event
    });
    try {
      this.cached = undefined;
      await vscode.workspace.getConfiguration(SECTION).update(key, value, vscode.ConfigurationTarget.Global);
      if (current() !== expected) await applied;
    } finally {
      this.cached = undefined; // read again: what this window wrote, or what another wrote meanwhile
      listener?.dispose();
      clearTimeout(timer);
    }
  }

  dispose(): void {
    this.subscriptions.forEach((d) => d.dispose());
  }
}

function secretKey(id: string, kind: SecretKind): string {
  return `dingtalk.robot.${id}.${kind}`;
}
