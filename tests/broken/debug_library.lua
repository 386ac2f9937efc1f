-- Broken on purpose: the debug library could reach into the host (hooks,
-- registry, upvalues). Only debug.traceback is there; anything else is a
-- clear error (exit 2).
scenario{ name = "debug_library", description = "sandbox: debug.getregistry" }
print(debug.traceback("traceback works"))
local reg = debug.getregistry()
print(reg)
