-- ping_pong.lua: two goroutines hit a ball back and forth over channels.
--
-- What it shows: an unbuffered channel is a rendezvous. A send completes
-- only when the other side receives, so "ping" and "pong" take strict
-- turns: neither can run ahead of the other. The ball is a Lua table that
-- travels through the channels; each player increments its hit count and
-- holds the ball for a moment (sim.sleep) before sending it back. When the
-- rounds are over, main takes the ball off the table (the "done" channel)
-- and both players return; nothing is left blocked.
--
-- What to watch: the log alternates ping, pong, ping, pong, each hit 50ms
-- after the previous one. The summary's goroutines line says 0 alive at the
-- end. Try --set rounds=10 or --set hold=1ms.
scenario{
  name = "ping_pong",
  description = "Two goroutines take strict turns over unbuffered channels",
  params = { rounds = 4, hold = "50ms" },
}

local rounds, hold = sim.params.rounds, sim.params.hold
local to_ping, to_pong, done = sim.chan(), sim.chan(), sim.chan()

-- A player receives the ball, hits it, and passes it on, until the ball
-- has been hit 2 * rounds times; then it hands the ball to main.
local function player(name, inbox, outbox)
  for ball in inbox:range() do
    ball.hits = ball.hits + 1
    ball.by[#ball.by + 1] = name
    sim.log("hit", ball.hits)
    sim.sleep(hold)
    if ball.hits == 2 * rounds then
      done:send(ball)
      return
    end
    outbox:send(ball)
  end
end

sim.go("ping", player, "ping", to_ping, to_pong)
sim.go("pong", player, "pong", to_pong, to_ping)

to_ping:send({ hits = 0, by = {} })  -- serve
local ball = done:recv()
to_ping:close()
to_pong:close()
sim.log("game over after", ball.hits, "hits")

sim.expect(ball.hits == 2 * rounds, "the ball was hit 2 x rounds times")
local alternated = true
for i = 2, #ball.by do
  if ball.by[i] == ball.by[i - 1] then alternated = false end
end
sim.expect(alternated, "ping and pong took strict turns")
sim.expect(sim.now() == 2 * rounds * sim.duration(hold), "each hit took exactly one hold")

-- Let the other goroutines finish before the run ends (main returning
-- would end it at once, as in Go): they then leave nothing behind.
sim.run()
