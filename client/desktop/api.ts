import { z } from 'zod';
import type { Alarm } from '../../protocol/index.ts';

/**
 * The contract between the Electron shell and its windows: what the preload exposes as
 * `window.tocsin`, the IPC channel behind each call, and a validator for every argument the main
 * process receives. The renderer never sees the subscriber token: sign-in hands it straight to main.
 */

export type ConnectionLabel =
  | 'live'
  | 'connecting'
  | 'reconnecting'
  | 'offline'
  | 'suspended'
  | 'auth-required'
  | 'stopped';

export interface UiState {
  readonly connection: { readonly status: ConnectionLabel; readonly text: string };
  /** null: not signed in. */
  readonly server: { readonly url: string; readonly user: string | null } | null;
  readonly pausedUntil: number | null;
  readonly selfHosted: {
    readonly enabled: boolean;
    readonly status: 'off' | 'starting' | 'running' | 'restarting' | 'failed';
    readonly url: string | null;
    readonly detail: string | null;
  };
  /**
   * Whether a system tray shows our icon; without one (Linux without a StatusNotifier host) the
   * windows carry the controls and closing the last window quits.
   */
  readonly trayAvailable: boolean;
  /** Whether the OS shows our notifications; when not, the windows and the tray say why. */
  readonly notifications: { readonly ok: boolean; readonly detail: string | null };
}

/** The windows a page may ask main to open (the tray's items, for desktops without a tray). */
export const WindowName = z.enum(['signin', 'history', 'settings']);
export type WindowName = z.infer<typeof WindowName>;

export type UiHistoryEntry =
  | { readonly kind: 'alarm'; readonly alarm: Alarm; readonly receivedAt: number }
  | { readonly kind: 'gap'; readonly message: string; readonly at: number };

export const DesktopSettings = z.object({
  urgentPiercesPause: z.boolean(),
  maxToasts: z.number().int().min(1).max(20),
  minPriority: z.number().int().min(1).max(5),
  startAtLogin: z.boolean(),
  selfHosted: z.object({
    enabled: z.boolean(),
    port: z.number().int().min(1024).max(65535),
    /** Listen on all interfaces instead of 127.0.0.1: only when the user opts in. */
    lan: z.boolean(),
  }),
});
export type DesktopSettings = z.infer<typeof DesktopSettings>;
/**
 * A change to some settings. `selfHosted` is itself partial and merged field by field, so a window
 * holding an older copy changes only what the user touched there (never a toggle made in the tray).
 */
export const SettingsPatch = DesktopSettings.extend({
  selfHosted: DesktopSettings.shape.selfHosted.partial().strict(),
})
  .partial()
  .strict();
export type SettingsPatch = z.infer<typeof SettingsPatch>;

export const DEFAULT_DESKTOP_SETTINGS: DesktopSettings = {
  urgentPiercesPause: true,
  maxToasts: 4,
  minPriority: 1,
  startAtLogin: false,
  selfHosted: { enabled: false, port: 8080, lan: false },
};

export const SignInRequest = z
  .object({
    serverUrl: z.string().min(1).max(2048),
    token: z.string().min(1).max(512),
  })
  .strict();
export type SignInRequest = z.infer<typeof SignInRequest>;

export type SignInErrorCode =
  | 'invalid-url'
  | 'unreachable'
  | 'bad-token'
  | 'forbidden'
  | 'keychain-unavailable';
export type SignInResult =
  | { readonly ok: true; readonly user: string }
  | { readonly ok: false; readonly code: SignInErrorCode; readonly message: string };

/** Pause notifications until an epoch ms, or resume (null). */
export const PauseRequest = z.number().int().positive().nullable();

export const AlarmIdArg = z.string().regex(/^[0-9]{1,20}(-[0-9]{1,20})?$/);

export interface PublishExample {
  readonly url: string;
  readonly token: string;
  readonly curl: string;
}

export interface DesktopApi {
  getState(): Promise<UiState>;
  onState(listener: (state: UiState) => void): () => void;
  signIn(request: SignInRequest): Promise<SignInResult>;
  signOut(): Promise<void>;
  getHistory(): Promise<UiHistoryEntry[]>;
  onHistory(listener: (entries: UiHistoryEntry[]) => void): () => void;
  /** Opens the alarm's link in the browser (http(s) only, checked by main). */
  openAlarm(id: string): Promise<void>;
  getSettings(): Promise<DesktopSettings>;
  updateSettings(patch: SettingsPatch): Promise<DesktopSettings>;
  /** Settings changed anywhere (the tray, another window). */
  onSettings(listener: (settings: DesktopSettings) => void): () => void;
  pause(until: number | null): Promise<void>;
  /** Self-hosted mode: the local server's publish example (null when not running). */
  getPublishExample(): Promise<PublishExample | null>;
  regeneratePublishToken(): Promise<PublishExample | null>;
  /** Opens one of the app's windows (the tray's items, for desktops without a tray). */
  showWindow(name: WindowName): Promise<void>;
  /** Quits the app: stops the agent and the local server first. */
  quit(): Promise<void>;
}

export { IpcChannel, IpcEvent } from './ipc.ts';
