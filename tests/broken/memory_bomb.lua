-- Broken on purpose: a string that doubles until memory runs out. The Lua
-- heap of a scenario is bounded (--mem-limit, default 512 MiB): "fatal
-- error: not enough memory: the scenario's Lua heap reached its bound",
-- exit 2, and chansim itself is unharmed.
scenario{ name = "memory_bomb", description = "doubling a string forever" }
local s = "chansim"
while true do
  s = s .. s
end
