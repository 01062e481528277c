-- Reserve every charge of one call, or none: the check and the change are one step.
-- KEYS[1]: the sorted set of open holds (member: call id, score: hold_until in ms)
-- KEYS[2]: the call's hold hash (field: counter key, value: units held)
-- KEYS[3..]: the window counters, hashes with the fields `used` and `reserved`
-- ARGV[1]: call id; ARGV[2]: hold_until (ms since the epoch)
-- then per counter, in KEYS order: key, limit, amount, expire-at (s since the epoch; -1: never)
-- Returns nil when admitted (also when the call already holds a reservation: a retried
-- reserve does not count twice), else the key of the first counter that does not fit.
-- Units stay below 2**53, so Lua's doubles compare them exactly; they are passed to
-- HINCRBY as the strings they came in as, never as Lua numbers.
if redis.call('EXISTS', KEYS[2]) == 1 then
  return nil
end
local counters = #KEYS - 2
for i = 1, counters do
  local arg = 2 + (i - 1) * 4
  local state = redis.call('HMGET', KEYS[i + 2], 'used', 'reserved')
  local used = tonumber(state[1]) or 0
  local reserved = tonumber(state[2]) or 0
  if tonumber(ARGV[arg + 3]) > tonumber(ARGV[arg + 2]) - used - reserved then
    return ARGV[arg + 1]
  end
end
for i = 1, counters do
  local arg = 2 + (i - 1) * 4
  local counter = KEYS[i + 2]
  redis.call('HINCRBY', counter, 'reserved', ARGV[arg + 3])
  if ARGV[arg + 4] ~= '-1' then
    redis.call('EXPIREAT', counter, ARGV[arg + 4])
  end
  redis.call('HSET', KEYS[2], ARGV[arg + 1], ARGV[arg + 3])
end
if counters > 0 then
  redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
end
return nil
