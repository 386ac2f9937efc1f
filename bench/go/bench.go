// The workloads of bench/bench.c in Go, with the same line names, for
// bench/run.sh to compare. Run with GOMAXPROCS=1.
//
//	go run bench.go [scale]
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync/atomic"
	"time"
)

func residentBytes() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	var size, resident int64
	fmt.Sscan(string(b), &size, &resident)
	return resident * int64(os.Getpagesize())
}

func pingpong(n int) float64 {
	ping, pong := make(chan int64), make(chan int64)
	go func() {
		for i := 0; i < n; i++ {
			pong <- (<-ping) + 1
		}
	}()
	t0 := time.Now()
	var v int64
	for i := 0; i < n; i++ {
		ping <- v
		v = <-pong
	}
	ns := float64(time.Since(t0).Nanoseconds()) / (2 * float64(n))
	if v != int64(n) {
		panic("pingpong")
	}
	return ns
}

func buffered(n int) float64 {
	c := make(chan int64, 1024)
	go func() {
		for i := 0; i < n; i++ {
			c <- int64(i)
		}
	}()
	t0 := time.Now()
	var sum int64
	for i := 0; i < n; i++ {
		sum += <-c
	}
	ns := float64(time.Since(t0).Nanoseconds()) / float64(n)
	if sum != int64(n)*int64(n-1)/2 {
		panic("buffered")
	}
	return ns
}

var spawned int64

func nothing() { spawned++ }

func spawnExit(n int) float64 {
	spawned = 0
	t0 := time.Now()
	for i := 0; i < n; i += 1000 {
		for j := 0; j < 1000; j++ {
			go nothing()
		}
		for spawned < int64(i+1000) {
			runtime.Gosched()
		}
	}
	return float64(time.Since(t0).Nanoseconds()) / float64(n)
}

func select4(n int) float64 {
	c0, c1, c2 := make(chan int64), make(chan int64), make(chan int64)
	c3 := make(chan int64, 1024)
	var total time.Duration
	var sum, v int64
	for done := 0; done < n; done += 1024 {
		for i := 0; i < 1024; i++ {
			c3 <- int64(i)
		}
		t0 := time.Now()
		for i := 0; i < 1024; i++ {
			select {
			case v = <-c0:
				panic("c0")
			case v = <-c1:
				panic("c1")
			case v = <-c2:
				panic("c2")
			case v = <-c3:
			}
			sum += v
		}
		total += time.Since(t0)
	}
	if sum == 0 {
		panic("select4")
	}
	return float64(total.Nanoseconds()) / float64(n)
}

func million(n, rounds int) (opsPerSec, rssPerG float64) {
	start, done := make(chan struct{}), make(chan struct{})
	var finished int64 // atomic: with GOMAXPROCS=1 an async preemption inside finished++ could lose a count
	rss0 := residentBytes()
	for i := 0; i < n; i++ {
		id := i + 2 // chansim's goroutine ids: main is 1
		go func() {
			<-start
			d := time.Millisecond + time.Duration((id*7919)%1000)*time.Microsecond
			for r := 0; r < rounds; r++ {
				time.Sleep(d)
			}
			if atomic.AddInt64(&finished, 1) == int64(n) {
				close(done)
			}
		}()
	}
	// Let every goroutine run once and park on start.
	for i := 0; i < 10; i++ {
		runtime.Gosched()
	}
	rss1 := residentBytes()
	t0 := time.Now()
	close(start)
	<-done
	secs := time.Since(t0).Seconds()
	return float64(n*rounds) / secs, float64(rss1-rss0) / float64(n)
}

func main() {
	runtime.GOMAXPROCS(1)
	scale := 1.0
	if len(os.Args) > 1 {
		if s, err := strconv.ParseFloat(os.Args[1], 64); err == nil && s > 0 {
			scale = s
		}
	}
	fmt.Printf("pingpong_ns_per_msg %.1f\n", pingpong(int(2000000*scale)))
	fmt.Printf("buffered_ns_per_item %.1f\n", buffered(int(5000000*scale)))
	fmt.Printf("spawn_exit_ns %.1f\n", spawnExit(int(1000000*scale)/1000*1000))
	fmt.Printf("select4_ns %.1f\n", select4(int(5000000*scale)/1024*1024))
	ops, rss := million(1000000, 5)
	fmt.Printf("timer_ops_per_sec %.0f\n", ops)
	fmt.Printf("parked_rss_bytes %.0f\n", rss)
}
