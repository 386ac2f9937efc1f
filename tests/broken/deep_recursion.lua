-- Broken on purpose: unbounded recursion. Lua's stack limit stops it with
-- "stack overflow", a panic (exit 2); the goroutine dump shows the first and
-- last frames with "...additional frames elided..." between them, as Go's.
scenario{ name = "deep_recursion", description = "a function that calls itself forever" }
local function depth(n)
  return 1 + depth(n + 1)
end
print(depth(1))
