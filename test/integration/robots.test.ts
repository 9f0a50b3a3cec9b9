// RobotStore against the real configuration API of the extension host: settings keep names and policies
// only, secrets go to SecretStorage, a workspace cannot set robots, removal deletes every secret.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { RobotStore } from '../../src/robots';

class MemorySecrets implements vscode.SecretStorage {
  readonly values = new Map<string, string>();
  private readonly emitter = new vscode.EventEmitter<vscode.SecretStorageChangeEvent>();
  readonly onDidChange = this.emitter.event;
  async get(key: string) { return this.values.get(key); }
  async store(key: string, value: string) { this.values.set(key, value); this.emitter.fire({ key }); }
  async delete(key: string) { this.values.delete(key); this.emitter.fire({ key }); }
  async keys() { return [...this.values.keys()]; }
}

const WEBHOOK = 'http://127.0.0.1:9/robot/send?access_token=integration-token-0123456789';
const SECRET = 'SECintegration0123456789abcdef0123456789abcdef';

describe('RobotStore in the extension host', () => {
  const config = () => vscode.workspace.getConfiguration('dingtalk');
  afterEach(async () => {
    await config().update('robots', undefined, vscode.ConfigurationTarget.Global);
    await config().update('defaultRobot', undefined, vscode.ConfigurationTarget.Global);
  });

  it('keeps secrets out of settings and the first robot becomes the default', async () => {
    const secrets = new MemorySecrets();
    const store = new RobotStore(secrets);
    const id = RobotStore.newId();
    await store.save({ id, name: 'Ops', enabled: true, dmPolicy: 'pairing', allowFrom: [], keywords: [] }, { webhookUrl: WEBHOOK, secret: SECRET });
    const inspected = config().inspect<unknown[]>('robots');
    assert.equal(JSON.stringify(inspected?.globalValue).includes('integration-token'), false);
    assert.equal(JSON.stringify(inspected?.globalValue).includes(SECRET), false);
    assert.deepEqual(await store.credentials(id), { webhookUrl: WEBHOOK, secret: SECRET });
    assert.equal(store.defaultRobot()?.name, 'Ops');
    store.dispose();
  });

  it('robots are machine settings: a workspace cannot set them', async () => {
    if (!vscode.workspace.workspaceFolders?.length) return assert.fail('the test workbench opens a folder');
    await assert.rejects(Promise.resolve(config().update('robots', [{ id: 'evil', name: 'Evil' }], vscode.ConfigurationTarget.Workspace)));
  });

  it('removing a robot deletes all its secrets and moves the default', async () => {
    const secrets = new MemorySecrets();
    const store = new RobotStore(secrets);
    const first = RobotStore.newId();
    const second = RobotStore.newId();
    await store.save({ id: first, name: 'One', enabled: true, dmPolicy: 'pairing', allowFrom: [], keywords: [] }, { webhookUrl: WEBHOOK, secret: SECRET });
    await store.save({ id: second, name: 'Two', enabled: true, dmPolicy: 'open', allowFrom: [], keywords: [] }, { webhookUrl: WEBHOOK });
    await store.setSecret(first, 'appSecret', 'app-secret-value');
    await store.remove(first);
    assert.deepEqual([...secrets.values.keys()].filter((k) => k.includes(first)), []);
    assert.deepEqual(store.list().map((r) => r.name), ['Two']);
    assert.equal(store.defaultRobot()?.id, second);
    store.dispose();
  });

  it('disabled robots are not send targets; the default comes first', async () => {
    const store = new RobotStore(new MemorySecrets());
    const ids = [RobotStore.newId(), RobotStore.newId(), RobotStore.newId()];
    await store.save({ id: ids[0], name: 'A', enabled: true, dmPolicy: 'pairing', allowFrom: [], keywords: [] });
    await store.save({ id: ids[1], name: 'B', enabled: false, dmPolicy: 'pairing', allowFrom: [], keywords: [] });
    await store.save({ id: ids[2], name: 'C', enabled: true, dmPolicy: 'pairing', allowFrom: [], keywords: [] });
    await store.setDefault(ids[2]);
    assert.deepEqual(store.sendTargets().map((r) => r.name), ['C', 'A']);
    store.dispose();
  });
});
