package main

import (
	"fmt"
	"os"
	"time"
)

func main() {
	go func() { time.Sleep(time.Hour); fmt.Println("never") }()
	fmt.Println("before")
	defer fmt.Println("never: deferred")
	os.Exit(3)
}
