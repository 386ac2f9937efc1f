-- Broken on purpose: a malformed duration in the scenario header. The header
-- is part of loading the scenario: "file:line: scenario duration: ..." and
-- exit 3 (a scenario error), before anything runs.
scenario{ name = "bad_header_duration", description = "duration = \"forever\"", duration = "forever" }
print("never printed")
