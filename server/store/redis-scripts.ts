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

/**
 * Index keys come in two shapes. A small index is a sorted set of zero-padded ids (lexical order is id
 * order): about 130 bytes for a topic's first alarm where a stream preallocates 4 KiB, so a new topic
 * per alarm stays cheap. Past COMPACT_MAX entries it becomes a stream (about 12 bytes an entry).
 */
const INDEX = `
local COMPACT_MAX = 64
local function pad(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return string.rep('0', 20 - #ms) .. ms .. '-' .. string.rep('0', 20 - #seq) .. seq
end
local function unpad(member)
  local ms = string.gsub(string.sub(member, 1, 20), '^0+', '')
  local seq = string.gsub(string.sub(member, 22), '^0+', '')
  if ms == '' then ms = '0' end
  if seq == '' then seq = '0' end
  return ms .. '-' .. seq
end
-- Each index's type, learnt once per script call: a batch's alarms mostly share a few indexes.
local kinds = {}
local function indexAdd(key, id)
  local kind = kinds[key]
  if kind == nil then kind = redis.call('TYPE', key).ok end
  if kind == 'stream' then
    redis.call('XADD', key, id, 'i', '')
    kinds[key] = 'stream'
    return
  end
  redis.call('ZADD', key, 0, pad(id))
  kinds[key] = 'zset'
  if redis.call('ZCARD', key) > COMPACT_MAX then
    local members = redis.call('ZRANGE', key, 0, -1)
    redis.call('DEL', key)
    for _, member in ipairs(members) do redis.call('XADD', key, unpad(member), 'i', '') end
    kinds[key] = 'stream'
  end
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
 * Appends a batch of alarms (those a Tocsin instance received in one event-loop turn) in one atomic
 * call: one round trip and one AOF write for the batch. KEYS: log, the all-topics index, then the own
 * index (its user's, or its topic's) of each alarm in the batch. ARGV: ms ('' = Redis's clock), the
 * number of alarms, then per alarm its JSON, its own index's position in KEYS, and '1' when it is a
 * topic alarm. The log entry carries the alarm; index entries (same id, no payload) let a read touch
 * only what its reader may see. Returns the ids, in order.
 */
const APPEND = `${LAST_GENERATED}${INDEX}
local ms = nil
if ARGV[1] ~= '' then
  -- An injected clock: never below the last id's time, so ids stay increasing if the clock steps back.
  ms = tonumber(ARGV[1])
  local last = tonumber(string.match(lastGenerated(KEYS[1]), '^(%d+)'))
  if last > ms then ms = last end
  ms = string.format('%.0f', ms) .. '-*'
end
local ids = {}
local p = 3
for n = 1, tonumber(ARGV[2]) do
  local id = redis.call('XADD', KEYS[1], ms or '*', 'a', ARGV[p])
  indexAdd(KEYS[tonumber(ARGV[p + 1])], id)
  if ARGV[p + 2] == '1' then redis.call('XADD', KEYS[2], id, 'i', '') end
  p = p + 3
  ids[n] = id
end
return ids
`;

/**
 * KEYS: log, then the indexes a subscriber may read. ARGV: start ('-' or '(' .. id), limit.
 * Merges the indexes by id and returns [id, json, id, json, ...] for the first \`limit\`.
 */
const READ = `${LESS}${INDEX}
local limit = tonumber(ARGV[2])
local lexStart = '-'
if ARGV[1] ~= '-' then lexStart = '(' .. pad(string.sub(ARGV[1], 2)) end
local ids = {}
for k = 2, #KEYS do
  local kind = redis.call('TYPE', KEYS[k]).ok
  if kind == 'stream' then
    for _, entry in ipairs(redis.call('XRANGE', KEYS[k], ARGV[1], '+', 'COUNT', limit)) do
      ids[#ids + 1] = entry[1]
    end
  elseif kind == 'zset' then
    for _, member in ipairs(redis.call('ZRANGEBYLEX', KEYS[k], lexStart, '+', 'LIMIT', 0, limit)) do
      ids[#ids + 1] = unpad(member)
    end
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

/**
 * KEYS: log, pruned-through, origin. Returns [last-generated-id, pruned-through or nil, origin or nil].
 * The origin is the first id this log issued: a cursor below it came from before a data reset (time-
 * based ids keep growing across a reset, so "newer than the last id" cannot tell). It is recorded the
 * first time it is known for certain: from the first entry of a log that was never pruned; a log that
 * was pruned before origins existed gets '0-0' (no claim).
 */
const CURSOR = `${LAST_GENERATED}
local pruned = redis.call('GET', KEYS[2])
local origin = redis.call('GET', KEYS[3])
if not origin then
  if pruned then
    origin = '0-0'
    redis.call('SET', KEYS[3], origin)
  else
    local first = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)[1]
    if first then
      origin = first[1]
      redis.call('SET', KEYS[3], origin)
    end
  end
end
return { lastGenerated(KEYS[1]), pruned, origin }
`;

/**
 * One bounded retention step. KEYS: log, pruned-through, all-topics index, the legacy set of index
 * keys. ARGV: cutoff ms ('' = no age limit), max count, chunk, user index prefix, topic index prefix.
 * Removes the oldest entries that are over the count or older than the cutoff (always a prefix of the
 * log, since ids follow time), at most \`chunk\` of them, raises the pruned-through horizon to the
 * newest one removed, and removes them from their own indexes only (found from each alarm's user or
 * topic), so a step costs the same however many topics exist. Returns [removed, 1 if maybe more].
 */
const PRUNE = `${LESS}${INDEX}
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
-- Each removed alarm's own index: sorted sets lose its member now, streams are trimmed once below.
local streams = {}
for i = 1, n do
  local ok, alarm = pcall(cjson.decode, batch[i][2][2])
  local key = nil
  if ok and type(alarm) == 'table' then
    if type(alarm.user) == 'string' then key = ARGV[4] .. alarm.user
    elseif type(alarm.topic) == 'string' then key = ARGV[5] .. alarm.topic end
  end
  if key then
    local kind = redis.call('TYPE', key).ok
    if kind == 'zset' then
      redis.call('ZREM', key, pad(batch[i][1]))
      if redis.call('ZCARD', key) == 0 then
        redis.call('DEL', key)
        redis.call('SREM', KEYS[4], key)
      end
    elseif kind == 'stream' then
      streams[key] = true
    end
  end
end
for key in pairs(streams) do
  trim(key)
  if redis.call('XLEN', key) == 0 then
    redis.call('DEL', key)
    redis.call('SREM', KEYS[4], key)
  end
end
trim(KEYS[3])
local removed = trim(KEYS[1])
local previous = redis.call('GET', KEYS[2])
if not previous or less(previous, through) then redis.call('SET', KEYS[2], through) end
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
const RELEASE = `${LAST_GENERATED}${INDEX}
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
indexAdd(KEYS[5], id)
if ARGV[4] == '1' then redis.call('XADD', KEYS[4], id, 'i', '') end
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
