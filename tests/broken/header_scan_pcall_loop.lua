-- Broken on purpose: a loop before the header that catches every error.
-- Before the run chansim reads the header (its seed, its expected failure)
-- by running the top-level code under an instruction bound; the bound
-- stopped the scan with an error that this pcall caught, again and again,
-- so chansim hung before the run began (found by tests/fuzz.sh). The scan
-- now stops at pcall; the run stops the loop with the instruction budget.
local caught = 0
while true do
  local ok = pcall(function() for _ = 1, 1000 do end end)
  if not ok then caught = caught + 1 end
end
scenario{ name = "header_scan_pcall_loop", description = "a loop that catches every error before the header" }
