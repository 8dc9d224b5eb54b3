import { hash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Scope } from '../protocol/index.ts';
import type { TokenRecord, TokenStore } from './store/store.ts';

/**
 * Token format: `tcs_<id>_<secret>`. The id (public, 12 hex) finds the record; the secret (32 random
 * bytes, base64url) is checked against its stored sha256 in constant time. Only the hash is stored.
 */
const TOKEN_PATTERN = /^tcs_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

export interface Principal {
  readonly tokenId: string;
  readonly user: string;
  readonly scope: Scope;
  readonly topics: readonly string[] | null;
  /** Other users this (publish) token may address; absent or null: none. See TokenRecord.recipients. */
  readonly recipients?: readonly string[] | null;
}

export interface MintedToken {
  readonly token: string;
  readonly record: TokenRecord;
}

/** One-shot: a fraction of createHash's cost, and it runs on every publish and stream open. */
function hashSecret(secret: string): Buffer {
  return hash('sha256', secret, 'buffer');
}

export async function mintToken(
  store: TokenStore,
  input: {
    user: string;
    scope: Scope;
    topics: readonly string[] | null;
    recipients?: readonly string[] | null;
  },
  now: number,
): Promise<MintedToken> {
  const id = randomBytes(6).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  const record: TokenRecord = {
    id,
    user: input.user,
    scope: input.scope,
    topics: input.topics === null ? null : [...new Set(input.topics)],
    createdAt: now,
    revokedAt: null,
    secretHash: hashSecret(secret),
    ...(input.recipients !== undefined &&
      input.recipients !== null && { recipients: [...new Set(input.recipients)] }),
  };
  await store.insert(record);
  return { token: `tcs_${id}_${secret}`, record };
}

/** Compared against when the id is unknown, so that path does the same work as a wrong secret. */
const ABSENT_HASH = hashSecret(randomBytes(32).toString('base64url'));

/**
 * The principal for a presented token, or null for anything unknown, malformed or revoked.
 * An unknown id, a revoked token and a wrong secret cost the same (a hash and a constant-time
 * comparison each), so response times do not tell which token ids exist.
 */
export async function verifyToken(store: TokenStore, presented: string): Promise<Principal | null> {
  const match = TOKEN_PATTERN.exec(presented);
  if (match === null) return null;
  const [, id, secret] = match as unknown as [string, string, string];
  const record = await store.get(id);
  const presentedHash = hashSecret(secret);
  const matches = timingSafeEqual(presentedHash, record?.secretHash ?? ABSENT_HASH);
  if (record === undefined || record.revokedAt !== null || !matches) return null;
  return {
    tokenId: record.id,
    user: record.user,
    scope: record.scope,
    topics: record.topics,
    recipients: record.recipients ?? null,
  };
}

/** Admin implies every scope; otherwise the scope must match exactly. */
export function hasScope(principal: Principal, needed: Scope): boolean {
  return principal.scope === 'admin' || principal.scope === needed;
}

export function mayUseTopic(principal: Principal, topic: string): boolean {
  return principal.topics === null || principal.topics.includes(topic);
}

/** A recipient pattern: a user name, optionally with `*` wildcards (`ops-*`, `*`). */
export const RECIPIENT_PATTERN = /^[A-Za-z0-9_*-]{1,64}$/;

function matchesPattern(pattern: string, user: string): boolean {
  if (!pattern.includes('*')) return pattern === user;
  // Only letters, digits, `_`, `-` and `*` reach here: nothing else needs escaping.
  const regex = new RegExp(`^${pattern.replaceAll('*', '[A-Za-z0-9_-]*')}$`);
  return regex.test(user);
}

/** Whether the token may send an alarm to `user`: its own, any for admin, else its recipient list. */
export function mayAddress(principal: Principal, user: string): boolean {
  if (user === principal.user || principal.scope === 'admin') return true;
  return principal.recipients?.some((pattern) => matchesPattern(pattern, user)) ?? false;
}

/**
 * Pulls the token from `Authorization: Bearer <token>`, or from Basic auth with the token as the
 * password (ntfy's `curl -u :token`). Returns null when absent or in another scheme.
 */
export function presentedToken(authorization: string | undefined): string | null {
  if (authorization === undefined) return null;
  const [scheme, value] = authorization.trim().split(/\s+/, 2);
  if (value === undefined || scheme === undefined) return null;
  if (scheme.toLowerCase() === 'bearer') return value;
  if (scheme.toLowerCase() === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon === -1 ? null : decoded.slice(colon + 1);
  }
  return null;
}
