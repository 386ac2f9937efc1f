-- Broken on purpose: a syntax error. The scenario does not load, so chansim
-- prints "file:line: message" on stderr and exits 3 (a scenario error);
-- nothing runs.
scenario{ name = "syntax_error", description = "a syntax error on line 6" }
local x = 1
local y = = 2
print(x, y)
