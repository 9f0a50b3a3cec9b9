// The onboarding view's script (runs inside the webview, bundled by esbuild for the browser).
// It renders what the extension sends and posts the user's intent back; validation, secrets and
// network calls stay in the extension.
import type { FormValues, FromView, RobotSummary, SecretDraft, StatusMessage, StringKey, ToView } from '../shared/onboardingProtocol';

interface VsCodeApi {
  postMessage(message: FromView): void;
  getState(): ViewState | undefined;
  setState(state: ViewState): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

interface ViewState {
  values: FormValues;
  status?: StatusMessage;
}

const vscode = acquireVsCodeApi();
const EMPTY: FormValues = { name: '', webhookUrl: '', secret: '', dmPolicy: 'pairing', allowFrom: '', keywords: '' };
let strings = {} as Record<StringKey, string>;
let robots: RobotSummary[] = [];
/** Webview state is written to disk by VS Code: it never holds the webhook URL (its access token) or the secret. */
function withoutSecrets(saved: ViewState | undefined): ViewState {
  const values = { ...EMPTY, ...saved?.values, webhookUrl: '', secret: '' };
  return { values, ...(saved?.status ? { status: saved.status } : {}) };
}
let state: ViewState = withoutSecrets(vscode.getState());
// A state saved by an earlier version may still hold them: overwrite it at once.
vscode.setState(state);
/** Set once the user typed: a late `init` must not wipe what they typed. */
let touched = false;

const $ = <T extends HTMLElement>(selector: string) => document.querySelector(selector) as T;
const form = $<HTMLFormElement>('#robot-form');
const statusBox = $<HTMLDivElement>('#status');
const list = $<HTMLUListElement>('#robot-list');

function field(name: keyof FormValues): HTMLInputElement | HTMLSelectElement {
  return form.elements.namedItem(name) as HTMLInputElement | HTMLSelectElement;
}

function input(name: Exclude<keyof FormValues, 'dmPolicy' | 'id'>): HTMLInputElement {
  return form.elements.namedItem(name) as HTMLInputElement;
}

function text(key: StringKey): string {
  return strings[key] ?? key;
}

function readForm(): FormValues {
  const values = { ...EMPTY, id: state.values.id };
  for (const name of ['name', 'webhookUrl', 'secret', 'dmPolicy', 'allowFrom', 'keywords'] as const) {
    (values as unknown as Record<string, string>)[name] = field(name).value;
  }
  return values;
}

function writeForm(values: FormValues): void {
  for (const name of ['name', 'webhookUrl', 'secret', 'dmPolicy', 'allowFrom', 'keywords'] as const) field(name).value = values[name] ?? '';
  syncVisibility();
}

function remember(): void {
  const typed = readForm();
  state = withoutSecrets({ ...state, values: typed });
  vscode.setState(state);
  // What is typed into the secret fields lives in the extension host's memory until saved.
  post({ type: 'draft', draft: { webhookUrl: typed.webhookUrl, secret: typed.secret } });
}

function restoreDraft(draft: SecretDraft): void {
  input('webhookUrl').value = draft.webhookUrl;
  input('secret').value = draft.secret;
}

function syncVisibility(): void {
  const policy = field('dmPolicy').value;
  $('#allowFrom-row').hidden = policy !== 'allowlist';
  $('#keywords-row').hidden = field('secret').value.trim() !== '' && !state.values.id;
  const editing = !!state.values.id;
  $('#cancel-edit').hidden = !editing;
  $('#form-title').textContent = editing ? `${text('editing')}: ${state.values.name}` : text('stepRobot');
  input('secret').placeholder = editing ? text('secretKeep') : 'SEC…';
  input('webhookUrl').placeholder = editing ? text('secretKeep') : 'https://oapi.dingtalk.com/robot/send?access_token=…';
  $('#policy-help').textContent = text(`policy${policy[0].toUpperCase()}${policy.slice(1)}` as StringKey);
}

function showStatus(status: StatusMessage | undefined): void {
  statusBox.textContent = status?.text ?? '';
  statusBox.className = `status ${status?.kind ?? ''}`;
  statusBox.hidden = !status;
  for (const element of Array.from(form.querySelectorAll('[aria-invalid]'))) element.removeAttribute('aria-invalid');
  if (status?.field) {
    const invalid = field(status.field);
    invalid.setAttribute('aria-invalid', 'true');
    invalid.focus();
  }
  const busy = status?.kind === 'progress';
  for (const button of Array.from(form.querySelectorAll('button'))) button.disabled = busy;
}

function button(label: string, icon: string, onClick: () => void, extraClass = ''): HTMLButtonElement {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = `icon-button ${extraClass}`;
  b.title = label;
  b.setAttribute('aria-label', label);
  b.innerHTML = `<span class="codicon codicon-${icon}"></span>`;
  b.addEventListener('click', onClick);
  return b;
}

function renderRobots(): void {
  list.replaceChildren();
  $('#no-robots').hidden = robots.length > 0;
  for (const robot of robots) {
    const item = document.createElement('li');
    item.className = `robot ${robot.enabled ? '' : 'disabled'}`;
    item.dataset.robotId = robot.id;
    const title = document.createElement('div');
    title.className = 'robot-title';
    const icon = document.createElement('span');
    icon.className = `codicon codicon-${robot.lastOk === false ? 'error' : robot.enabled ? 'pass' : 'circle-slash'}`;
    const name = document.createElement('span');
    name.className = 'robot-name';
    name.textContent = robot.name;
    title.append(icon, name);
    if (robot.isDefault) {
      const badge = document.createElement('span');
      badge.className = 'badge';
      badge.textContent = text('default');
      title.append(badge);
    }
    const detail = document.createElement('div');
    detail.className = 'robot-detail';
    detail.textContent = `${robot.host} · ${robot.signed ? text('signed') : text('unsigned')} · ${robot.dmPolicy}${robot.enabled ? '' : ` · ${text('disabledState')}`}`;
    const state = document.createElement('div');
    state.className = 'robot-state';
    state.textContent = robot.state;
    const actions = document.createElement('div');
    actions.className = 'robot-actions';
    actions.append(
      button(text('sendTest'), 'send', () => post({ type: 'sendTest', id: robot.id })),
      button(text('checkConnection'), 'plug', () => post({ type: 'checkConnection', id: robot.id })),
      button(text('edit'), 'edit', () => post({ type: 'edit', id: robot.id })),
    );
    if (!robot.isDefault && robot.enabled) actions.append(button(text('makeDefault'), 'star-empty', () => post({ type: 'setDefault', id: robot.id })));
    actions.append(
      robot.enabled
        ? button(text('disable'), 'debug-pause', () => post({ type: 'setEnabled', id: robot.id, enabled: false }))
        : button(text('enable'), 'debug-start', () => post({ type: 'setEnabled', id: robot.id, enabled: true })),
      button(text('remove'), 'trash', () => post({ type: 'remove', id: robot.id }), 'danger'),
    );
    item.append(title, detail, state, actions);
    list.append(item);
  }
}

function applyStrings(): void {
  for (const element of Array.from(document.querySelectorAll<HTMLElement>('[data-text]'))) element.textContent = text(element.dataset.text as StringKey);
  for (const option of Array.from(field('dmPolicy').querySelectorAll('option'))) {
    option.textContent = `${option.value} — ${text(`policy${option.value[0].toUpperCase()}${option.value.slice(1)}` as StringKey)}`;
  }
  input('name').placeholder = text('namePlaceholder');
}

function post(message: FromView): void {
  vscode.postMessage(message);
}

function submit(test: boolean): void {
  const values = readForm();
  remember();
  // The previous save's result ("Robot "A" is ready") must not stand for this one while the extension works.
  showStatus({ kind: 'progress', text: text('working') });
  post({ type: 'save', values, test });
}

window.addEventListener('message', (event: MessageEvent<ToView>) => {
  const message = event.data;
  switch (message.type) {
    case 'init':
      strings = message.strings;
      robots = message.robots;
      applyStrings();
      if (!touched) {
        writeForm(state.values);
        restoreDraft(message.draft);
      }
      syncVisibility();
      showStatus(state.status);
      renderRobots();
      document.body.classList.add('ready');
      break;
    case 'robots':
      robots = message.robots;
      renderRobots();
      break;
    case 'status':
      if (message.saved) {
        state = { values: { ...EMPTY } };
        writeForm(state.values);
      }
      state = { ...state, status: message.status.kind === 'progress' ? state.status : message.status };
      vscode.setState(state);
      showStatus(message.status);
      break;
    case 'edit': {
      const r = message.robot;
      state = { values: { id: r.id, name: r.name, webhookUrl: '', secret: '', dmPolicy: r.dmPolicy, allowFrom: r.allowFrom.join(', '), keywords: r.keywords.join(', ') } };
      vscode.setState(state);
      writeForm(state.values);
      showStatus(undefined);
      field('name').focus();
      break;
    }
  }
});

form.addEventListener('submit', (event) => {
  event.preventDefault();
  submit(true);
});
$('#save-only').addEventListener('click', () => submit(false));
$('#cancel-edit').addEventListener('click', () => {
  state = { values: { ...EMPTY } };
  vscode.setState(state);
  post({ type: 'draft', draft: { webhookUrl: '', secret: '' } });
  writeForm(state.values);
  showStatus(undefined);
});
form.addEventListener('input', () => {
  touched = true;
  syncVisibility();
  remember();
});
post({ type: 'ready' });
