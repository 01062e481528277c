-- Settle one call once: release its holds and add the actual units to `used`.
-- KEYS[1]: the sorted set of open holds; KEYS[2]: the call's hold hash
-- ARGV[1]: call id; ARGV[2]: the prefix of counter keys
-- then pairs: counter key, actual units (keys the call did not reserve are ignored)
-- Returns 1 when it settled, 0 when nothing was held (settled or expired before).
local held = redis.call('HGETALL', KEYS[2])
if #held == 0 then
  return 0
end
local actual = {}
for i = 3, #ARGV, 2 do
  actual[ARGV[i]] = ARGV[i + 1]
end
for i = 1, #held, 2 do
  local counter = ARGV[2] .. held[i]
  -- A counter that expired (its window long past) is not brought back without a TTL.
  if redis.call('EXISTS', counter) == 1 then
    if held[i + 1] ~= '0' then
      redis.call('HINCRBY', counter, 'reserved', '-' .. held[i + 1])
    end
    local charged = actual[held[i]]
    if charged ~= nil and charged ~= '0' then
      redis.call('HINCRBY', counter, 'used', charged)
    end
  end
end
redis.call('DEL', KEYS[2])
redis.call('ZREM', KEYS[1], ARGV[1])
return 1
