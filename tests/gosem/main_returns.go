package main

import (
	"fmt"
	"time"
)

func main() {
	go func() { time.Sleep(time.Second); fmt.Println("sleeper: woke (Go never prints this)") }()
	go func() {
		t := time.NewTicker(500 * time.Millisecond)
		for range t.C {
			fmt.Println("tick")
		}
	}()
	fmt.Println("main: started")
	time.Sleep(5 * time.Millisecond)
	fmt.Println("main: returns")
}
