package main

import (
	"fmt"
	"time"
)

func main() {
	t0 := time.Now()
	a := time.AfterFunc(5*time.Millisecond, func() { fmt.Println("never") })
	fmt.Printf("stop before firing: %v\n", a.Stop())
	_ = t0
	b := time.AfterFunc(10*time.Millisecond, func() { fmt.Println("fired after 10ms") })
	time.Sleep(20 * time.Millisecond)
	fmt.Printf("reset after firing: %v\n", b.Reset(10*time.Millisecond))
	time.Sleep(20 * time.Millisecond)
	fmt.Printf("stop after firing: %v\n", b.Stop())
}
