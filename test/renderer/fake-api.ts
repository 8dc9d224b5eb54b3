/**
 * A stand-in for the preload's `window.tocsin`, injected into the page before its scripts run. It is
 * serialised into the page (Playwright addInitScript), so it must be self-contained: no imports, no
 * closures over test variables. Every call is recorded in `window.__calls` for assertions.
 */
export function installFakeApi(seed: {
  state: unknown;
  history: unknown[];
  settings: Record<string, unknown>;
  publishExample: unknown;
  signIn: Record<string, unknown>;
}): void {
  type Listener = (value: unknown) => void;
  const w = globalThis as unknown as Record<string, unknown>;
  const calls: { method: string; args: unknown[] }[] = [];
  const stateListeners: Listener[] = [];
  const historyListeners: Listener[] = [];
  const settingsListeners: Listener[] = [];
  let state = seed.state as Record<string, unknown>;
  let settings = seed.settings;
  const record = (method: string, ...args: unknown[]) => {
    calls.push({ method, args });
  };
  w.__calls = calls;
  w.__emitState = (next: Record<string, unknown>) => {
    state = next;
    for (const l of stateListeners) l(next);
  };
  w.__emitSettings = (next: Record<string, unknown>) => {
    settings = next;
    for (const l of settingsListeners) l(next);
  };
  w.__emitHistory = (entries: unknown[]) => {
    for (const l of historyListeners) l(entries);
  };
  w.tocsin = {
    async getState() {
      record('getState');
      return state;
    },
    onState(listener: Listener) {
      stateListeners.push(listener);
      return () => {};
    },
    async signIn(request: { serverUrl: string; token: string }) {
      record('signIn', request);
      return (
        seed.signIn[request.token] ?? { ok: false, code: 'bad-token', message: 'The token was not accepted.' }
      );
    },
    async signOut() {
      record('signOut');
    },
    async getHistory() {
      record('getHistory');
      return seed.history;
    },
    onHistory(listener: Listener) {
      historyListeners.push(listener);
      return () => {};
    },
    async openAlarm(id: string) {
      record('openAlarm', id);
    },
    async getSettings() {
      record('getSettings');
      return settings;
    },
    async updateSettings(patch: Record<string, unknown>) {
      record('updateSettings', patch);
      const selfHosted = { ...(settings.selfHosted as object), ...(patch.selfHosted as object | undefined) };
      settings = { ...settings, ...patch, selfHosted };
      return settings;
    },
    onSettings(listener: Listener) {
      settingsListeners.push(listener);
      return () => {};
    },
    async pause(until: number | null) {
      record('pause', until);
      state = { ...state, pausedUntil: until };
      for (const l of stateListeners) l(state);
    },
    async getPublishExample() {
      return seed.publishExample;
    },
    async regeneratePublishToken() {
      record('regeneratePublishToken');
      return seed.publishExample;
    },
    async showWindow(name: string) {
      record('showWindow', name);
    },
    async quit() {
      record('quit');
    },
  };
}
