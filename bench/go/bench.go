// The workloads of bench/bench.c in Go, with the same line names, for
// bench/run.sh to compare. Run with GOMAXPROCS=1. Times are the process's
// CPU time (CLOCK_PROCESS_CPUTIME_ID, every thread: the GC's too), as
// chansim-bench reads them: the machine is shared, wall time is not this
// program's.
//
//	go run bench.go [scale] [stack_kib, ignored] [workload]
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// cpuNow: the process's CPU time so far.
func cpuNow() time.Duration {
	var ts syscall.Timespec
	const clockProcessCputimeID = 2
	syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockProcessCputimeID, uintptr(unsafe.Pointer(&ts)), 0)
	return time.Duration(ts.Nano())
}

func cpuSince(t0 time.Duration) time.Duration { return cpuNow() - t0 }

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
	t0 := cpuNow()
	var v int64
	for i := 0; i < n; i++ {
		ping <- v
		v = <-pong
	}
	ns := float64(cpuSince(t0).Nanoseconds()) / (2 * float64(n))
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
	t0 := cpuNow()
	var sum int64
	for i := 0; i < n; i++ {
		sum += <-c
	}
	ns := float64(cpuSince(t0).Nanoseconds()) / float64(n)
	if sum != int64(n)*int64(n-1)/2 {
		panic("buffered")
	}
	return ns
}

var spawned int64

func nothing() { spawned++ }

func spawnExit(n int) float64 {
	spawned = 0
	t0 := cpuNow()
	for i := 0; i < n; i += 1000 {
		for j := 0; j < 1000; j++ {
			go nothing()
		}
		for spawned < int64(i+1000) {
			runtime.Gosched()
		}
	}
	return float64(cpuSince(t0).Nanoseconds()) / float64(n)
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
		t0 := cpuNow()
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
		total += cpuSince(t0)
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
	t0 := cpuNow()
	close(start)
	<-done
	secs := cpuSince(t0).Seconds()
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
	only := "" // os.Args[3] (as chansim-bench's; os.Args[2], its stack size, is ignored)
	if len(os.Args) > 3 {
		only = os.Args[3]
	}
	want := func(name string) bool { return only == "" || only == name }
	if want("pingpong") {
		fmt.Printf("pingpong_ns_per_msg %.1f\n", pingpong(int(2000000*scale)))
	}
	if want("buffered") {
		fmt.Printf("buffered_ns_per_item %.1f\n", buffered(int(5000000*scale)))
	}
	if want("spawn") {
		fmt.Printf("spawn_exit_ns %.1f\n", spawnExit(int(1000000*scale)/1000*1000))
	}
	if want("select") {
		fmt.Printf("select4_ns %.1f\n", select4(int(5000000*scale)/1024*1024))
	}
	if want("million") {
		ops, rss := million(1000000, 5)
		fmt.Printf("timer_ops_per_sec %.0f\n", ops)
		fmt.Printf("parked_rss_bytes %.0f\n", rss)
	}
}
