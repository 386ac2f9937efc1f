-- Broken on purpose: a sandbox escape attempt. os.execute does not exist in
-- a scenario; calling it is a clear error (a panic, exit 2), never a shell.
scenario{ name = "os_execute", description = "sandbox: os.execute" }
os.execute("touch /tmp/chansim-sandbox-escaped")
