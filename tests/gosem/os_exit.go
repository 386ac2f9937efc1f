package main

import (
	"fmt"
	"os"
	"time"
)

func main() {
	go func() { time.Sleep(time.Millisecond); fmt.Println("never") }()
	fmt.Println("before")
	defer fmt.Println("never: deferred")
	os.Exit(3)
}
