// The desktop agent's public surface: what the CLI and the Electron shell (main/) build on.
export {
  Agent,
  type AgentDeps,
  type AgentEvents,
  type AgentWarning,
  type AgentWarningCode,
  type AlarmInfo,
  type BacklogReason,
  type GapNotice,
} from './agent.ts';
export {
  type AgentStore,
  AgentStoreError,
  type AgentStoreProblem,
  alarmKey,
  type LoadedAgentState,
  type Position,
  SqliteAgentStore,
} from './agent-store.ts';
export { ApiError, type ApiErrorCode, Me, TocsinApi } from './api.ts';
export {
  type BackoffPolicy,
  DEFAULT_RECONNECT,
  parseRetryAfter,
  type ReconnectPolicy,
  reconnectDelay,
  restartDelay,
} from './backoff.ts';
export { type Clock, systemClock, type TimerHandle } from './clock.ts';
export { AgentConfig, type AgentConfigInput, parseAgentConfig, serverOrigin } from './config.ts';
export type { ConnectionEnd } from './connection-end.ts';
export {
  CredentialError,
  type CredentialErrorCode,
  type CredentialStore,
  KEYCHAIN_SERVICE,
  KeytarCredentialStore,
  MemoryCredentialStore,
} from './credentials.ts';
export { DEFAULT_BURST_WINDOW_MS, type DispatcherOptions, NotificationDispatcher } from './dispatcher.ts';
export { AgentError, type AgentErrorCode } from './errors.ts';
export { AlarmHistory, type HistoryEntry } from './history.ts';
export { MemoryNotifier, type Notifier, NotifierError, type NotifierErrorCode } from './notifier.ts';
export { DbusNotifier, type DbusNotifierOptions } from './notifier-dbus.ts';
export {
  DEFAULT_SETTINGS,
  isPaused,
  type NotificationPlan,
  type NotificationSettings,
  pauseUntil,
  planNotifications,
  type Sound,
  soundFor,
  type Toast,
  type Urgency,
  urgencyFor,
} from './policy.ts';
export {
  DEFAULT_DRIFT,
  DriftDetector,
  type DriftOptions,
  type PowerEvent,
  PowerEventHub,
  type PowerEvents,
} from './power.ts';
export { decideReconnect, type ReconnectContext, type ReconnectDecision } from './reconnect.ts';
export { type ConnectionState, type ConnectionStatus, canTransition, describeState } from './state.ts';
export type { FetchFunction } from './stream.ts';
