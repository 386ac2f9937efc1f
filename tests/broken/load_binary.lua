-- Broken on purpose: loading precompiled bytecode (a binary chunk can crash
-- the Lua VM). load accepts text only: it returns nil and "attempt to load a
-- binary chunk", which assert turns into a panic (exit 2).
scenario{ name = "load_binary", description = "sandbox: load of a binary chunk" }
local bytecode = string.dump(function() return 42 end)
local f = assert(load(bytecode))
print(f())
