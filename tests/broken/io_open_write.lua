-- Broken on purpose: writing a file from a scenario. io.open is not
-- available (outputs go through --log, --csv, --metrics): a clear error,
-- exit 2, and no file is created.
scenario{ name = "io_open_write", description = "sandbox: io.open for writing" }
local f = io.open("/tmp/chansim-sandbox-escaped", "w")
f:write("escaped")
f:close()
