-- No address reaches any output: tables, functions, coroutines and
-- userdata through print, tostring, string.format's %s and %p (also as a
-- method of the format string), error values, errgroup and goroutine
-- returns, expectation messages and a panic. Run twice: the same bytes.
--= twice
--| table: #1	function: #2	thread: #3	chan#1(len 0, cap 0)	chansim.mutex: #4	Point: #5
--| table: #1	function: #2	thread: #3	Point: #5
--| table: #1|function: #2|thread: #3|chansim.mutex: #4|Point: #5| table: #1|function: #2|
--| #1 #2 #3 #6 #4 (null) (null)
--| table: #1 and #1, 100%
--| false	table: #1
--| 7
--| errgroup error:	table	7	table: #7
--| errgroup function error:	true
--| coroutine error:	false	true	Point: #5
--! exit 2
--? panic: (error object is a table value)
local t, f, co, ch, mu = {}, function() end, coroutine.create(function() end), sim.chan(), sim.mutex()
local named = setmetatable({}, { __name = "Point" })
print(t, f, co, ch, mu, named)
print(tostring(t), tostring(f), tostring(co), tostring(named))
print(string.format("%s|%s|%s|%s|%s|%10s|%-8s|", t, f, co, mu, named, t, f))
print(string.format("%p %p %p %p %p %p %p", t, f, co, ch, mu, 42, nil))
print(("%s and %p, 100%%"):format(t, t))
print(pcall(error, t))
print(select(2, pcall(error, { code = 7 })).code)
local g = sim.errgroup()
g:go(function() return { code = 7 } end)
local e = g:wait()
print("errgroup error:", type(e), e.code, e)
local g2 = sim.errgroup()
g2:go(function() return f end)
print("errgroup function error:", g2:wait() == f)
local wg = sim.waitgroup(); wg:add(1)
sim.go("returns a table", function() wg:done(); return t end)
wg:wait()
sim.expect(false, string.format("an expectation naming %s and %p", t, co))
local ok, err = coroutine.resume(coroutine.create(function() error(named) end))
print("coroutine error:", ok, err == named, err)
error(t)
