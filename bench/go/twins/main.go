// The Go twins of the Lua-level benchmarks in bench/lua/: the same
// programs, line for line, for bench/run.sh to time as whole processes
// against `chansim run bench/lua/NAME.lua --set n=N`. Run with
// GOMAXPROCS=1 (chansim runs one goroutine at a time).
//
//	twins pingpong|buffered|select|spawn|timers|mutex N
package main

import (
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"
)

func pingpong(n int) {
	ping, pong := make(chan int), make(chan int)
	go func() {
		for i := 0; i < n; i++ {
			pong <- (<-ping) + 1
		}
	}()
	v := 0
	for i := 0; i < n; i++ {
		ping <- v
		v = <-pong
	}
	if v != n {
		panic("pingpong")
	}
}

func buffered(n int) {
	c := make(chan int, 1024)
	go func() {
		for i := 1; i <= n; i++ {
			c <- i
		}
		close(c)
	}()
	sum := 0
	for v := range c {
		sum += v
	}
	if sum != n*(n+1)/2 {
		panic("buffered")
	}
}

func selectReady(n int) {
	a, b, c, ready := make(chan int), make(chan int), make(chan int), make(chan int, 1024)
	sum := 0
	for done := 0; done < n; done += 1024 {
		for i := 1; i <= 1024; i++ {
			ready <- i
		}
		for k := 0; k < 1024; k++ {
			select {
			case <-a:
				panic("a")
			case <-b:
				panic("b")
			case <-c:
				panic("c")
			case v := <-ready:
				sum += v
			}
		}
	}
	if sum == 0 {
		panic("select")
	}
}

func spawn(n int) {
	var wg sync.WaitGroup
	count := 0
	var mu sync.Mutex
	for r := 0; r < n/1000; r++ {
		wg.Add(1000)
		for i := 0; i < 1000; i++ {
			go func() { mu.Lock(); count++; mu.Unlock(); wg.Done() }()
		}
		wg.Wait()
	}
	if count != n/1000*1000 {
		panic("spawn")
	}
}

func timers(n int) {
	var wg sync.WaitGroup
	wg.Add(n)
	for i := 1; i <= n; i++ {
		d := time.Millisecond + time.Duration((i+1)*7919%1000)*time.Microsecond
		go func() {
			for r := 0; r < 5; r++ {
				time.Sleep(d)
			}
			wg.Done()
		}()
	}
	wg.Wait()
}

func mutex(n int) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	counter := 0
	wg.Add(4)
	for g := 0; g < 4; g++ {
		go func() {
			for i := 0; i < n/4; i++ {
				mu.Lock()
				counter++
				mu.Unlock()
			}
			wg.Done()
		}()
	}
	wg.Wait()
	if counter != n/4*4 {
		panic("mutex")
	}
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: twins pingpong|buffered|select|spawn|timers|mutex N")
		os.Exit(3)
	}
	n, err := strconv.Atoi(os.Args[2])
	if err != nil || n <= 0 {
		fmt.Fprintln(os.Stderr, "twins: N must be a positive integer")
		os.Exit(3)
	}
	work := map[string]func(int){
		"pingpong": pingpong, "buffered": buffered, "select": selectReady,
		"spawn": spawn, "timers": timers, "mutex": mutex,
	}[os.Args[1]]
	if work == nil {
		fmt.Fprintln(os.Stderr, "twins: unknown workload", os.Args[1])
		os.Exit(3)
	}
	work(n)
}
