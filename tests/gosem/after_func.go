package main

import (
	"fmt"
	"time"
)

func main() {
	fired := make(chan bool)
	a := time.AfterFunc(time.Hour, func() { fmt.Println("never") })
	fmt.Printf("stop before firing: %v\n", a.Stop())
	b := time.AfterFunc(10*time.Millisecond, func() { fmt.Println("fired after 10ms"); fired <- true })
	<-fired
	fmt.Printf("reset after firing: %v\n", b.Reset(10*time.Millisecond))
	<-fired
	fmt.Printf("stop after firing: %v\n", b.Stop())
}
