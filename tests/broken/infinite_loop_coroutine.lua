-- Broken on purpose: the same spin inside a Lua coroutine run by the main
-- goroutine. The coroutine's instructions count against the goroutine that
-- resumes it, so the budget stops it too (exit 2), instead of hanging.
scenario{ name = "infinite_loop_coroutine", description = "a spinning Lua coroutine" }
local gen = coroutine.wrap(function()
  local n = 0
  while true do n = n + 1 end
end)
gen()
