-- Broken on purpose: loading a module by a path outside the scenario's
-- folder. Module names are letters, digits, _ and .; a path is refused with
-- a clear error (exit 2).
scenario{ name = "require_outside", description = "sandbox: require of a path" }
require("../../../etc/passwd")
