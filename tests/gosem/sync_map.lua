-- sync.Map's methods (sync_map.go; Go's Range order is unspecified, so
-- the Go twin sorts the keys it visits).
--| load a: 1 true
--| load z: nil false
--| load_or_store a: 1 true
--| load_or_store b: 2 false
--| swap b: 2 true
--| compare_and_swap b 3->4: true
--| compare_and_swap b 3->5: false
--| load_and_delete a: 1 true
--| compare_and_delete b 4: true
--| range: c=3
local m = sim.sync_map()
m:store("a", 1)
print("load a: " .. tostring(select(1, m:load("a"))) .. " " .. tostring(select(2, m:load("a"))))
local v, ok = m:load("z"); print("load z: " .. tostring(v) .. " " .. tostring(ok))
v, ok = m:load_or_store("a", 9); print("load_or_store a: " .. v .. " " .. tostring(ok))
v, ok = m:load_or_store("b", 2); print("load_or_store b: " .. v .. " " .. tostring(ok))
v, ok = m:swap("b", 3); print("swap b: " .. v .. " " .. tostring(ok))
print("compare_and_swap b 3->4: " .. tostring(m:compare_and_swap("b", 3, 4)))
print("compare_and_swap b 3->5: " .. tostring(m:compare_and_swap("b", 3, 5)))
v, ok = m:load_and_delete("a"); print("load_and_delete a: " .. v .. " " .. tostring(ok))
print("compare_and_delete b 4: " .. tostring(m:compare_and_delete("b", 4)))
m:store("c", 3)
m:range(function(k, val) print("range: " .. k .. "=" .. val) end)
