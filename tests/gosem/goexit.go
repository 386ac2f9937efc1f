package main

import (
	"fmt"
	"runtime"
)

func main() {
	done := make(chan bool)
	go func() {
		defer func() { fmt.Println("worker: outer deferred runs"); done <- true }()
		func() {
			defer func() { recover() }()
			defer fmt.Println("worker: deferred runs")
			runtime.Goexit()
			fmt.Println("never")
		}()
		fmt.Println("never: recover does not stop Goexit")
	}()
	<-done
	fmt.Println("main: worker done")
	defer fmt.Println("main: deferred runs")
	runtime.Goexit()
}
