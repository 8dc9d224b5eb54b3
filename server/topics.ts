import { NAME_PATTERN } from '../protocol/index.ts';
import { HttpProblem } from './problem.ts';
import { mayUseTopic, type Principal } from './tokens.ts';

/**
 * The topics a subscriber reads: the ones it asked for (`?topics=a,b`), each of which its token must
 * allow; when it asked for none, all of a topic-restricted token's topics, or none for an unrestricted one.
 */
export function subscribedTopics(principal: Principal, requested: string | undefined): string[] {
  if (requested === undefined || requested.trim() === '') {
    return principal.topics === null ? [] : [...principal.topics];
  }
  const topics = [...new Set(requested.split(',').map((t) => t.trim()))].filter((t) => t !== '');
  const invalid = topics.filter((t) => !NAME_PATTERN.test(t));
  if (invalid.length > 0) {
    throw new HttpProblem('bad-request', `invalid topic name(s): ${invalid.join(', ')}`);
  }
  const denied = topics.filter((t) => !mayUseTopic(principal, t));
  if (denied.length > 0) {
    throw new HttpProblem('forbidden', `this token may not read topic(s): ${denied.join(', ')}`);
  }
  return topics;
}
