// The IPC channel names of the desktop API (see api.ts). No imports: the sandboxed preload
// bundles this file, and it should carry nothing else.

/** invoke channels, one per request method. */
export const IpcChannel = {
  getState: 'tocsin:get-state',
  signIn: 'tocsin:sign-in',
  signOut: 'tocsin:sign-out',
  getHistory: 'tocsin:get-history',
  openAlarm: 'tocsin:open-alarm',
  getSettings: 'tocsin:get-settings',
  updateSettings: 'tocsin:update-settings',
  pause: 'tocsin:pause',
  getPublishExample: 'tocsin:get-publish-example',
  regeneratePublishToken: 'tocsin:regenerate-publish-token',
  showWindow: 'tocsin:show-window',
  quit: 'tocsin:quit',
} as const;

/** main → renderer pushes. */
export const IpcEvent = {
  state: 'tocsin:state',
  history: 'tocsin:history',
  settings: 'tocsin:settings',
} as const;
