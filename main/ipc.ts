import { type IpcMainInvokeEvent, ipcMain } from 'electron';
import type { z } from 'zod';
import {
  AlarmIdArg,
  IpcChannel,
  PauseRequest,
  SettingsPatch,
  SignInRequest,
  type WindowName,
  WindowName as WindowNameArg,
} from '../client/desktop/api.ts';
import type { DesktopController } from '../client/desktop/controller.ts';

/** Only our own pages (our windows, served from the app scheme) may call the app. */
export type SenderCheck = (event: IpcMainInvokeEvent) => boolean;

function handle<A extends unknown[]>(
  channel: string,
  isTrusted: SenderCheck,
  fn: (...args: A) => unknown,
  ...schemas: { [K in keyof A]: z.ZodType<A[K]> }
): void {
  ipcMain.handle(channel, (event: IpcMainInvokeEvent, ...raw: unknown[]) => {
    if (!isTrusted(event)) {
      const url = event.senderFrame?.url ?? '';
      throw new Error(`refused IPC ${channel} from ${url || 'an unknown frame'}`);
    }
    if (raw.length !== schemas.length) throw new Error(`IPC ${channel} takes ${schemas.length} argument(s)`);
    const args = schemas.map((schema, i) => schema.parse(raw[i])) as A;
    return fn(...args);
  });
}

/** Every renderer request goes to the desktop controller, after the sender and each argument are checked. */
export function registerIpcHandlers(deps: {
  controller: DesktopController;
  isTrusted: SenderCheck;
  showWindow: (name: WindowName) => void;
  quit: () => void;
}): void {
  const { controller: c, isTrusted } = deps;
  handle(IpcChannel.getState, isTrusted, () => c.getState());
  handle(IpcChannel.signIn, isTrusted, (request) => c.signIn(request), SignInRequest);
  handle(IpcChannel.signOut, isTrusted, () => c.signOut());
  handle(IpcChannel.getHistory, isTrusted, () => c.getHistory());
  handle(IpcChannel.openAlarm, isTrusted, (id) => c.openAlarm(id), AlarmIdArg);
  handle(IpcChannel.getSettings, isTrusted, () => c.getSettings());
  handle(IpcChannel.updateSettings, isTrusted, (patch) => c.updateSettings(patch), SettingsPatch);
  handle(IpcChannel.pause, isTrusted, (until) => c.pause(until), PauseRequest);
  handle(IpcChannel.getPublishExample, isTrusted, () => c.getPublishExample());
  handle(IpcChannel.regeneratePublishToken, isTrusted, () => c.regeneratePublishToken());
  handle(IpcChannel.showWindow, isTrusted, (name) => deps.showWindow(name), WindowNameArg);
  handle(IpcChannel.quit, isTrusted, () => deps.quit());
}
