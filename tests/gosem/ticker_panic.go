package main

import (
	"fmt"
	"time"
)

func try(f func()) {
	defer func() { fmt.Printf("recovered: %v\n", recover()) }()
	f()
}

func main() {
	try(func() { time.NewTicker(0) })
	t := time.NewTicker(time.Second)
	try(func() { t.Reset(-1) })
	time.NewTicker(-5)
}
