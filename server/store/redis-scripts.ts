/**
 * The Redis store's Lua scripts. Each one runs atomically inside Redis, so the log, its indexes and the
 * retention horizon can never be seen half-updated (not by another instance, not after a crash: Redis
 * 7 writes a script's effects to the AOF as one MULTI/EXEC). Every script takes all its keys as KEYS.
 */

/** Canonical stream ids compare by length, then lexically (exact for 64-bit parts, no float maths). */
const LESS = `
local function less(a, b)
  local am, as = string.match(a, '^(%d+)-(%d+)$')
  local bm, bs = string.match(b, '^(%d+)-(%d+)$')
  if #am ~= #bm then return #am < #bm end
  if am ~= bm then return am < bm end
  if #as ~= #bs then return #as < #bs end
  return as < bs
end
`;

/** The stream's last-generated-id survives trimming, so it tells which ids this log ever issued. */
const LAST_GENERATED = `
local function lastGenerated(key)
  if redis.call('EXISTS', key) == 0 then return '0-0' end
  local info = redis.call('XINFO', 'STREAM', key)
  for i = 1, #info, 2 do
    if info[i] == 'last-generated-id' then return info[i + 1] end
  end
  return '0-0'
end
`;

/**
 * KEYS: log, the set of index streams, then the alarm's index streams (its user's; or its topic's and
 * the all-topics one). ARGV: ms ('' = Redis's clock), JSON. The log entry carries the alarm; index
 * entries (same id, no payload) let a read touch only what its reader may see.
 */
const APPEND = `${LAST_GENERATED}
local id
if ARGV[1] == '' then
  id = redis.call('XADD', KEYS[1], '*', 'a', ARGV[2])
else
  -- An injected clock: never below the last id's time, so ids stay increasing if the clock steps back.
  local ms = tonumber(ARGV[1])
  local last = tonumber(string.match(lastGenerated(KEYS[1]), '^(%d+)'))
  if last > ms then ms = last end
  id = redis.call('XADD', KEYS[1], string.format('%.0f', ms) .. '-*', 'a', ARGV[2])
end
for k = 3, #KEYS do
  redis.call('XADD', KEYS[k], id, 'i', '')
  redis.call('SADD', KEYS[2], KEYS[k])
end
return id
`;

/**
 * KEYS: log, then the index streams a subscriber may read. ARGV: start ('-' or '(' .. id), limit.
 * Merges the indexes by id and returns [id, json, id, json, ...] for the first \`limit\`.
 */
const READ = `${LESS}
local limit = tonumber(ARGV[2])
local ids = {}
for k = 2, #KEYS do
  for _, entry in ipairs(redis.call('XRANGE', KEYS[k], ARGV[1], '+', 'COUNT', limit)) do
    ids[#ids + 1] = entry[1]
  end
end
table.sort(ids, less)
local out = {}
for n = 1, math.min(limit, #ids) do
  local entry = redis.call('XRANGE', KEYS[1], ids[n], ids[n])[1]
  if entry then
    out[#out + 1] = entry[1]
    out[#out + 1] = entry[2][2]
  end
end
return out
`;

/** KEYS: log, pruned-through. Returns [last-generated-id, pruned-through or nil]. */
const CURSOR = `${LAST_GENERATED}
return { lastGenerated(KEYS[1]), redis.call('GET', KEYS[2]) }
`;

/**
 * One bounded retention step. KEYS: log, pruned-through, the set of index streams. ARGV: cutoff ms
 * ('' = no age limit), max count, chunk. Removes the oldest entries that are over the count or older
 * than the cutoff (always a prefix of the log, since ids follow time), at most \`chunk\` of them,
 * raises the pruned-through horizon to the newest one removed, and trims the indexes to match.
 * Returns [removed, 1 if there may be more to remove].
 */
const PRUNE = `${LESS}
local excess = redis.call('XLEN', KEYS[1]) - tonumber(ARGV[2])
local cutoff = nil
if ARGV[1] ~= '' then cutoff = tonumber(ARGV[1]) end
local chunk = tonumber(ARGV[3])
local batch = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', chunk)
local n = 0
for i, entry in ipairs(batch) do
  local ms = tonumber(string.match(entry[1], '^(%d+)'))
  if i <= excess or (cutoff ~= nil and ms < cutoff) then n = i else break end
end
if n == 0 then return { 0, 0 } end
local through = batch[n][1]
local keep = nil
if batch[n + 1] then
  keep = batch[n + 1][1]
else
  local following = redis.call('XRANGE', KEYS[1], '(' .. through, '+', 'COUNT', 1)[1]
  if following then keep = following[1] end
end
local function trim(key)
  if keep then return redis.call('XTRIM', key, 'MINID', keep) end
  return redis.call('XTRIM', key, 'MAXLEN', 0)
end
local removed = trim(KEYS[1])
local previous = redis.call('GET', KEYS[2])
if not previous or less(previous, through) then redis.call('SET', KEYS[2], through) end
for _, index in ipairs(redis.call('SMEMBERS', KEYS[3])) do
  trim(index)
  if redis.call('XLEN', index) == 0 then
    redis.call('DEL', index)
    redis.call('SREM', KEYS[3], index)
  end
end
local more = 0
if n == chunk then more = 1 end
return { removed, more }
`;

/**
 * Releases one scheduled alarm, exactly once across instances. KEYS: due set, scheduled hash, then
 * APPEND's keys (log, set of index streams, the alarm's index streams). ARGV: schedule id, ms ('' =
 * Redis's clock), JSON. Whoever removes the id from the due set appends it, in the same atomic step;
 * everyone else gets false.
 */
const RELEASE = `${LAST_GENERATED}
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return false end
redis.call('HDEL', KEYS[2], ARGV[1])
local id
if ARGV[2] == '' then
  id = redis.call('XADD', KEYS[3], '*', 'a', ARGV[3])
else
  local ms = tonumber(ARGV[2])
  local last = tonumber(string.match(lastGenerated(KEYS[3]), '^(%d+)'))
  if last > ms then ms = last end
  id = redis.call('XADD', KEYS[3], string.format('%.0f', ms) .. '-*', 'a', ARGV[3])
end
for k = 5, #KEYS do
  redis.call('XADD', KEYS[k], id, 'i', '')
  redis.call('SADD', KEYS[4], KEYS[k])
end
return id
`;

/** KEYS: token hash, token id set. ARGV: id, then field/value pairs. Never overwrites a token. */
const TOKEN_INSERT = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('SADD', KEYS[2], ARGV[1])
return 1
`;

/** KEYS: token hash. ARGV: revoked-at. 1 when an active token was revoked, 0 otherwise. */
const TOKEN_REVOKE = `
if redis.call('HGET', KEYS[1], 'revokedAt') ~= '' then return 0 end
redis.call('HSET', KEYS[1], 'revokedAt', ARGV[1])
redis.call('ZADD', KEYS[2], ARGV[1], ARGV[2])
return 1
`;

/** Registered on every connection (ioredis runs them by EVALSHA and re-sends the source on NOSCRIPT). */
export const SCRIPTS = {
  tocsinAppend: { lua: APPEND },
  tocsinRead: { lua: READ },
  tocsinCursor: { lua: CURSOR },
  tocsinPrune: { lua: PRUNE },
  tocsinTokenInsert: { lua: TOKEN_INSERT },
  tocsinTokenRevoke: { lua: TOKEN_REVOKE },
  tocsinRelease: { lua: RELEASE },
} as const;

export type ScriptName = keyof typeof SCRIPTS;
