/**
 * The peers' auth check, as costly as Tocsin's: the presented bearer token is hashed (sha256) and
 * compared in constant time with the expected hash.
 */
import { hash, timingSafeEqual } from 'node:crypto';

const sha256 = (text: string) => hash('sha256', text, 'buffer');

export function bearerCheck(token: string): (authorization: string | undefined) => boolean {
  const expected = sha256(token);
  return (authorization) => {
    if (authorization === undefined || !authorization.startsWith('Bearer ')) return false;
    return timingSafeEqual(sha256(authorization.slice(7).trim()), expected);
  };
}
