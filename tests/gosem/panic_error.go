package main

import (
	"context"
	"errors"
	"fmt"
)

type E struct{ code int }

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var r any
	func() { defer func() { r = recover() }(); panic(ctx.Err()) }()
	fmt.Printf("recovered: %v\n", r)
	fmt.Printf("errors.Is(recovered, context.Canceled): %v\n", errors.Is(r.(error), context.Canceled))
	func() { defer func() { r = recover() }(); panic(E{42}) }()
	fmt.Printf("recovered table: %v\n", r.(E).code)
	panic(errors.New("boom"))
}
