package main

import "fmt"

func main() {
	func() {
		defer func() { fmt.Printf("recovered: %v\n", recover()) }()
		var ch chan int
		close(ch)
	}()
	var ch chan int
	for v := range ch {
		fmt.Println("never", v)
	}
}
