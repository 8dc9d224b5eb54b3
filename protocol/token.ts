import { z } from 'zod';
import { Name } from './alarm.ts';

/** What a token may do: read streams and history, publish alarms, or both and manage tokens. */
export const Scope = z.enum(['subscribe', 'publish', 'admin']);
export type Scope = z.infer<typeof Scope>;
export const SCOPES: readonly Scope[] = Scope.options;

/** `GET /v1/me`: who a token is (the desktop app and `tocsin login` check a token with it). */
export const Me = z.object({
  tokenId: z.string(),
  user: Name,
  scope: Scope,
  /** Topics the token may use; null means any topic. */
  topics: z.array(Name).nullable(),
});
export type Me = z.infer<typeof Me>;
