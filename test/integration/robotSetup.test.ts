// Editing a robot through the same code the Setup view uses, against the real configuration API: what the
// form does not show (the Stream Client ID) survives the edit.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { RobotStore } from '../../src/robots';
import { RobotSetup } from '../../src/robotSetup';
import type { SendService } from '../../src/sendService';

class MemorySecrets implements vscode.SecretStorage {
  readonly values = new Map<string, string>();
  private readonly emitter = new vscode.EventEmitter<vscode.SecretStorageChangeEvent>();
  readonly onDidChange = this.emitter.event;
  async get(key: string) { return this.values.get(key); }
  async store(key: string, value: string) { this.values.set(key, value); this.emitter.fire({ key }); }
  async delete(key: string) { this.values.delete(key); this.emitter.fire({ key }); }
  async keys() { return [...this.values.keys()]; }
}

describe('RobotSetup editing', () => {
  const config = () => vscode.workspace.getConfiguration('dingtalk');
  afterEach(async () => {
    await config().update('robots', undefined, vscode.ConfigurationTarget.Global);
    await config().update('defaultRobot', undefined, vscode.ConfigurationTarget.Global);
  });

  it('keeps the Stream Client ID and enabled state the form does not show', async () => {
    const store = new RobotStore(new MemorySecrets());
    const id = RobotStore.newId();
    await store.save(
      { id, name: 'Stream bot', enabled: false, dmPolicy: 'pairing', allowFrom: [], keywords: [], clientId: 'dingclientid0123' },
      { webhookUrl: 'http://127.0.0.1:9/robot/send?access_token=edit-token-0123456789', secret: 'SECedit0123456789abcdef0123456789abcdef' },
    );
    const setup = new RobotSetup(store, {} as SendService);
    const result = await setup.save({ id, name: 'Stream bot renamed', webhookUrl: '', secret: '', dmPolicy: 'open', allowFrom: '', keywords: '' }, false);
    assert.equal(result.saved, true, result.text);
    const edited = store.get(id);
    assert.equal(edited?.name, 'Stream bot renamed');
    assert.equal(edited?.dmPolicy, 'open');
    assert.equal(edited?.clientId, 'dingclientid0123');
    assert.equal(edited?.enabled, false);
    store.dispose();
  });
});
