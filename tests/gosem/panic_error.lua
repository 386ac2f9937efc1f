-- A panic value is the value given: an error panicked and recovered is
-- still that error (errors.Is), with no file:line in front; an unrecovered
-- one prints Go's "panic: " line (panic_error.go).
--| recovered: context canceled
--| errors.Is(recovered, context.Canceled): true
--| recovered table: 42
--! exit 2
--? panic: boom
local ctx, cancel = sim.context.with_cancel(sim.context.background())
cancel()
local ok, r = pcall(function() sim.panic(ctx:err()) end)
print("recovered: " .. r)
print("errors.Is(recovered, context.Canceled): " .. tostring(r == ctx:err()))
ok, r = pcall(function() sim.panic({ code = 42 }) end)
print("recovered table: " .. r.code)
sim.panic("boom")
