import type { DesktopSettings, PublishExample, SettingsPatch, UiState } from '../../client/desktop/api.ts';
import { api, bindStatus, el } from './api.ts';
import { formatPause } from './format.ts';

const HOUR = 60 * 60 * 1000;

function tomorrowAt(hour: number, now: number): number {
  const date = new Date(now);
  date.setDate(date.getDate() + 1);
  date.setHours(hour, 0, 0, 0);
  return date.getTime();
}

function checkbox(
  id: string,
  label: string,
  checked: boolean,
  onChange: (value: boolean) => void,
): HTMLElement {
  const input = el('input', { attrs: { id, type: 'checkbox' } });
  input.checked = checked;
  input.addEventListener('change', () => onChange(input.checked));
  return el('div', { class: 'row' }, [input, el('label', { text: label, attrs: { for: id } })]);
}

function numberField(
  id: string,
  label: string,
  value: number,
  min: number,
  max: number,
  onChange: (v: number) => void,
) {
  const input = el('input', {
    attrs: { id, type: 'number', min: String(min), max: String(max), value: String(value) },
  });
  input.addEventListener('change', () => {
    const v = Number(input.value);
    if (Number.isInteger(v) && v >= min && v <= max) onChange(v);
    else input.value = String(value);
  });
  return el('div', { class: 'row' }, [el('label', { text: label, attrs: { for: id } }), input]);
}

async function save(patch: SettingsPatch): Promise<void> {
  settings = await api.updateSettings(patch);
  render();
}

function publishBlock(example: PublishExample | null, state: UiState): HTMLElement {
  if (!state.selfHosted.enabled)
    return el('p', {
      class: 'hint',
      text: 'Run a Tocsin server on this computer to get alarms from local scripts.',
    });
  if (example === null)
    return el('p', { class: 'hint', text: state.selfHosted.detail ?? 'Starting the local server…' });
  const regenerate = el('button', {
    text: 'Regenerate publish token',
    attrs: { id: 'regenerate', type: 'button' },
  });
  regenerate.addEventListener('click', async () => {
    publishExample = await api.regeneratePublishToken();
    render();
  });
  return el('div', {}, [
    el('p', { text: `Local server: ${example.url}` }),
    el('p', { class: 'hint', text: 'Send yourself an alarm from any script:' }),
    el('pre', { class: 'code', text: example.curl, attrs: { id: 'publish-example' } }),
    regenerate,
  ]);
}

let settings: DesktopSettings;
let state: UiState;
let publishExample: PublishExample | null = null;
const root = document.getElementById('app') as HTMLElement;

function render(): void {
  const now = Date.now();
  const pause = el('section', { class: 'card' }, [
    el('h2', { text: 'Do not disturb' }),
    el('p', { text: formatPause(state.pausedUntil, now), attrs: { id: 'pause-state' } }),
    el('div', { class: 'buttons' }, [
      button('pause-hour', 'Pause for 1 hour', () => api.pause(now + HOUR)),
      button('pause-tomorrow', 'Pause until tomorrow 08:00', () => api.pause(tomorrowAt(8, now))),
      button('resume', 'Resume', () => api.pause(null)),
    ]),
    checkbox(
      'pierce',
      'Urgent alarms (priority 5) still notify while paused',
      settings.urgentPiercesPause,
      (v) => save({ urgentPiercesPause: v }),
    ),
  ]);
  const notify = el('section', { class: 'card' }, [
    el('h2', { text: 'Notifications' }),
    numberField(
      'max-toasts',
      'Show at most this many at once (the rest are summed up)',
      settings.maxToasts,
      1,
      20,
      (v) => save({ maxToasts: v }),
    ),
    numberField(
      'min-priority',
      'Notify from priority (1-5; lower ones only go to history)',
      settings.minPriority,
      1,
      5,
      (v) => save({ minPriority: v }),
    ),
    checkbox('start-at-login', 'Start Tocsin when I log in', settings.startAtLogin, (v) =>
      save({ startAtLogin: v }),
    ),
  ]);
  const selfHosted = el('section', { class: 'card' }, [
    el('h2', { text: 'Server on this computer' }),
    checkbox('self-hosted', 'Run a Tocsin server on this computer', settings.selfHosted.enabled, (v) =>
      save({ selfHosted: { enabled: v } }),
    ),
    numberField('port', 'Port', settings.selfHosted.port, 1024, 65535, (v) =>
      save({ selfHosted: { port: v } }),
    ),
    checkbox('lan', 'Reachable from other devices on my network (LAN)', settings.selfHosted.lan, (v) =>
      save({ selfHosted: { lan: v } }),
    ),
    publishBlock(publishExample, state),
  ]);
  root.replaceChildren(el('h1', { text: 'Settings' }), pause, notify, selfHosted);
}

function button(id: string, text: string, action: () => Promise<unknown>): HTMLButtonElement {
  const b = el('button', { text, attrs: { id, type: 'button' } });
  b.addEventListener('click', () => void action());
  return b;
}

bindStatus();
const [initialSettings, initialState, example] = await Promise.all([
  api.getSettings(),
  api.getState(),
  api.getPublishExample(),
]);
settings = initialSettings;
state = initialState;
publishExample = example;
render();
// The tray (or another window) changed a setting: show it, so nothing here acts on a stale copy.
api.onSettings((next) => {
  settings = next;
  render();
});
api.onState(async (next) => {
  state = next;
  publishExample = await api.getPublishExample();
  render();
});
