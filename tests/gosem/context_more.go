// needs go1.21

package main

import (
	"context"
	"errors"
	"fmt"
	"time"
)

type key struct{ name string }

func main() {
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(errors.New("db down"))
	fmt.Printf("err: %v, cause: %v\n", ctx.Err(), context.Cause(ctx))
	tctx, _ := context.WithTimeoutCause(context.Background(), 10*time.Millisecond, errors.New("too slow"))
	<-tctx.Done()
	fmt.Printf("timeout err: %v, cause: %v\n", tctx.Err(), context.Cause(tctx))
	vctx := context.WithValue(ctx, "k", "v")
	wctx := context.WithoutCancel(vctx)
	fmt.Printf("without cancel: err %v, value %v\n", map[bool]string{true: "nil"}[wctx.Err() == nil], wctx.Value("k"))
	actx, acancel := context.WithCancel(context.Background())
	ran := make(chan error)
	stop := context.AfterFunc(actx, func() { ran <- actx.Err() })
	acancel()
	fmt.Printf("after func ran: %v\n", <-ran)
	fmt.Printf("stop after it ran: %v\n", stop())
	bctx, bcancel := context.WithCancel(context.Background())
	stop2 := context.AfterFunc(bctx, func() { fmt.Println("never") })
	fmt.Printf("stop before: %v\n", stop2())
	bcancel()
	ka, kb := &key{"a"}, &key{"b"}
	k := context.WithValue(context.WithValue(context.WithValue(context.WithValue(context.Background(), ka, "a-table"), kb, "b-table"), 1, "1-number"), "1", "str")
	fmt.Printf("key values: %v %v %v %v\n", k.Value(ka), k.Value(kb), k.Value(1), k.Value("1"))
}
