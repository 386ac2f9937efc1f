-- Broken on purpose: loadfile and dofile of a file outside the scenario's
-- folder and chansim's library are refused (exit 2); the file is not read.
scenario{ name = "loadfile_outside", description = "sandbox: loadfile(\"/etc/passwd\")" }
local f, err = loadfile("/etc/passwd")
print(f, err)
