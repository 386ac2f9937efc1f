-- Broken on purpose: a sandbox escape attempt with io.popen: a clear error
-- (exit 2), no process is started.
scenario{ name = "io_popen", description = "sandbox: io.popen" }
local p = io.popen("id")
print(p:read("a"))
