// needs go1.20

package main

import (
	"fmt"
	"sync"
)

func main() {
	var m sync.Map
	m.Store("a", 1)
	v, ok := m.Load("a")
	fmt.Printf("load a: %v %v\n", v, ok)
	v, ok = m.Load("z")
	if v == nil {
		v = "nil"
	}
	fmt.Printf("load z: %v %v\n", v, ok)
	v, ok = m.LoadOrStore("a", 9)
	fmt.Printf("load_or_store a: %v %v\n", v, ok)
	v, ok = m.LoadOrStore("b", 2)
	fmt.Printf("load_or_store b: %v %v\n", v, ok)
	v, ok = m.Swap("b", 3)
	fmt.Printf("swap b: %v %v\n", v, ok)
	fmt.Printf("compare_and_swap b 3->4: %v\n", m.CompareAndSwap("b", 3, 4))
	fmt.Printf("compare_and_swap b 3->5: %v\n", m.CompareAndSwap("b", 3, 5))
	v, ok = m.LoadAndDelete("a")
	fmt.Printf("load_and_delete a: %v %v\n", v, ok)
	fmt.Printf("compare_and_delete b 4: %v\n", m.CompareAndDelete("b", 4))
	m.Store("c", 3)
	m.Range(func(k, v any) bool { fmt.Printf("range: %v=%v\n", k, v); return true })
}
