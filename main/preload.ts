// The only bridge between a sandboxed window and the app: a typed, minimal API (no ipcRenderer leak).
import { contextBridge, ipcRenderer } from 'electron';
import type { DesktopApi, DesktopSettings, UiHistoryEntry, UiState } from '../client/desktop/api.ts';
import { IpcChannel, IpcEvent } from '../client/desktop/ipc.ts';

function subscribe<T>(channel: string, listener: (value: T) => void): () => void {
  const handler = (_event: Electron.IpcRendererEvent, value: T) => listener(value);
  ipcRenderer.on(channel, handler);
  return () => ipcRenderer.off(channel, handler);
}

const api: DesktopApi = {
  getState: () => ipcRenderer.invoke(IpcChannel.getState),
  onState: (listener) => subscribe<UiState>(IpcEvent.state, listener),
  signIn: (request) => ipcRenderer.invoke(IpcChannel.signIn, request),
  signOut: () => ipcRenderer.invoke(IpcChannel.signOut),
  getHistory: () => ipcRenderer.invoke(IpcChannel.getHistory),
  onHistory: (listener) => subscribe<UiHistoryEntry[]>(IpcEvent.history, listener),
  openAlarm: (id) => ipcRenderer.invoke(IpcChannel.openAlarm, id),
  getSettings: () => ipcRenderer.invoke(IpcChannel.getSettings),
  updateSettings: (patch) => ipcRenderer.invoke(IpcChannel.updateSettings, patch),
  onSettings: (listener) => subscribe<DesktopSettings>(IpcEvent.settings, listener),
  pause: (until) => ipcRenderer.invoke(IpcChannel.pause, until),
  getPublishExample: () => ipcRenderer.invoke(IpcChannel.getPublishExample),
  regeneratePublishToken: () => ipcRenderer.invoke(IpcChannel.regeneratePublishToken),
  showWindow: (name) => ipcRenderer.invoke(IpcChannel.showWindow, name),
  quit: () => ipcRenderer.invoke(IpcChannel.quit),
};

contextBridge.exposeInMainWorld('tocsin', api);
