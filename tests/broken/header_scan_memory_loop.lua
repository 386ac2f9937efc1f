-- Broken on purpose: a loop before the header that fills the heap and
-- catches the error. The scan that reads the header before the run has a
-- heap bound of its own; with the full heap each allocation collected the
-- whole heap again and the pcall caught the error, so chansim hung before
-- the run began (found by tests/fuzz.sh). The scan now stops at pcall, and
-- the run fails fast: running out of memory is fatal, as in Go.
local t = {}
while true do
  pcall(function() t[#t + 1] = { #t, "x" .. #t } end)
end
scenario{ name = "header_scan_memory_loop", description = "a heap filled before the header" }
