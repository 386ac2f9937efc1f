-- context.WithCancelCause and Cause, WithTimeoutCause, WithoutCancel,
-- AfterFunc (and its stop), keys of any value: a table is a key of its
-- own, as Go's unexported key type (context_more.go, Go 1.21).
--| err: context canceled, cause: db down
--| timeout err: context deadline exceeded, cause: too slow
--| without cancel: err nil, value v
--| after func ran: context canceled
--| stop after it ran: false
--| stop before: true
--| key values: a-table b-table 1-number str
local C = sim.context
local ctx, cancel = C.with_cancel_cause(C.background())
cancel("db down")
print(string.format("err: %s, cause: %s", ctx:err(), C.cause(ctx)))
local tctx = C.with_timeout_cause(C.background(), "10ms", "too slow")
sim.recv(tctx:done())
print(string.format("timeout err: %s, cause: %s", tctx:err(), C.cause(tctx)))
local vctx = C.with_value(ctx, "k", "v")
local wctx = C.without_cancel(vctx)
print(string.format("without cancel: err %s, value %s", tostring(wctx:err()), wctx:value("k")))
local actx, acancel = C.with_cancel(C.background())
local ran = sim.chan()
local stop = C.after_func(actx, function() ran:send(actx:err()) end)
acancel()
print("after func ran: " .. ran:recv())
print("stop after it ran: " .. tostring(stop()))
local bctx, bcancel = C.with_cancel(C.background())
local stop2 = C.after_func(bctx, function() print("never") end)
print("stop before: " .. tostring(stop2()))
bcancel()
local ka, kb = {}, {}
local k = C.with_value(C.with_value(C.with_value(C.with_value(C.background(), ka, "a-table"), kb, "b-table"), 1, "1-number"), "1", "str")
print(string.format("key values: %s %s %s %s", k:value(ka), k:value(kb), k:value(1), k:value("1")))
