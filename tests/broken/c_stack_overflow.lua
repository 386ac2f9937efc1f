-- Broken on purpose: a recursion through a C function (string.gsub calls
-- back into Lua), which nests C calls on the goroutine's own stack. Either
-- Lua's C-call limit stops it ("C stack overflow", a panic) or the guard
-- page below the goroutine's stack does ("fatal error: stack overflow");
-- both end the program with exit 2, never a crash of chansim.
scenario{ name = "c_stack_overflow", description = "recursion through string.gsub" }
local function expand(s)
  return (s:gsub(".", function(c) return expand(c) end))
end
print(expand("chansim"))
