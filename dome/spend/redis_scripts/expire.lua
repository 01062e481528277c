-- Charge holds whose time passed in full (the provider may have billed the call).
-- KEYS[1]: the sorted set of open holds
-- ARGV[1]: now (ms since the epoch); ARGV[2]: at most this many calls per run
-- ARGV[3]: the prefix of hold hashes; ARGV[4]: the prefix of counter keys
-- Returns how many calls' holds it charged; the caller runs it again while that is
-- the batch size, so one run never blocks Redis for long.
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
for _, call in ipairs(due) do
  local hold = ARGV[3] .. call
  local held = redis.call('HGETALL', hold)
  for i = 1, #held, 2 do
    local counter = ARGV[4] .. held[i]
    if held[i + 1] ~= '0' and redis.call('EXISTS', counter) == 1 then
      redis.call('HINCRBY', counter, 'reserved', '-' .. held[i + 1])
      redis.call('HINCRBY', counter, 'used', held[i + 1])
    end
  end
  redis.call('DEL', hold)
  redis.call('ZREM', KEYS[1], call)
end
return #due
