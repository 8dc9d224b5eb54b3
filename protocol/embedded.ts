import { z } from 'zod';

/**
 * The desktop app's self-hosted mode: the app runs the bundled server as a child process
 * (Electron's utilityProcess) and they talk with these messages.
 */
export const EmbeddedStart = z.object({
  host: z.string(),
  port: z.number().int().min(0).max(65535),
  dataDir: z.string().min(1),
  /** The desktop user's name on their own server. */
  user: z.string().default('me'),
});
export type EmbeddedStart = z.input<typeof EmbeddedStart>;

/** App → server. `provision`: fresh subscribe and publish tokens (the previous ones are revoked). */
export type EmbeddedRequest = { type: 'provision' } | { type: 'regenerate-publish-token' } | { type: 'stop' };

/** Server → app. */
export type EmbeddedMessage =
  | { type: 'listening'; url: string }
  | { type: 'tokens'; subscribe?: string; publish?: string }
  | { type: 'failed'; code: string; message: string };
