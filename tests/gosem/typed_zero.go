package main

import "fmt"

func main() {
	ints := make(chan int, 1)
	ints <- 7
	close(ints)
	v, ok := <-ints
	fmt.Println(v, ok)
	v, ok = <-ints
	fmt.Println(v, ok)
	strs := make(chan string)
	close(strs)
	s, ok := <-strs
	fmt.Printf("%q %v\n", s, ok)
	for range ints {
	}
	fmt.Println("range ended")
	select {
	case v, ok := <-ints:
		fmt.Printf("select: %v %v\n", v, ok)
	}
}
