-- Broken on purpose: a loop that fills the heap and catches each "not
-- enough memory" with pcall. Lua answers every refused allocation with a
-- full collection of the heap, so with the error caught this churned
-- forever (over a minute at 32 MiB, no end at 512). Running out of memory
-- is fatal in Go and cannot be recovered: the first time the heap is full
-- for good the run stops, "fatal error: not enough memory", exit 2,
-- whatever catches the error (pcall, xpcall, a coroutine's resume).
scenario{ name = "memory_pcall_loop", description = "catching out-of-memory in a loop" }
local t = {}
local caught = 0
while true do
  local ok = pcall(function() t[#t + 1] = { #t, "x" .. #t } end)
  if not ok then caught = caught + 1 end
end
