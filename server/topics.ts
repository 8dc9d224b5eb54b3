import { NAME_PATTERN } from '../protocol/index.ts';
import { HttpProblem } from './problem.ts';
import type { Visibility } from './store/store.ts';
import { mayUseTopic, type Principal } from './tokens.ts';

/**
 * What a subscriber reads: its user's alarms, plus the topics it asked for (`?topics=a,b`), each of
 * which its token must allow. `?topics=*` means every topic the token may read. Asking for none
 * means all of a topic-restricted token's topics, or none for an unrestricted one.
 */
export function subscription(principal: Principal, requested: string | undefined): Visibility {
  const user = principal.user;
  if (requested?.trim() === '*') {
    return principal.topics === null
      ? { user, topics: [], allTopics: true }
      : { user, topics: [...principal.topics] };
  }
  return { user, topics: subscribedTopics(principal, requested) };
}

function subscribedTopics(principal: Principal, requested: string | undefined): string[] {
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
