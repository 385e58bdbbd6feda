// Lock benchmark peer for Go (same work as bench/lock.cpp): sync.Mutex, 1M Lock/Unlock pairs by
// one goroutine, then by 100 goroutines each holding it across runtime.Gosched().
// Usage: go run lock.go (GOMAXPROCS as set in the environment).
package main

import (
	"fmt"
	"runtime"
	"sync"
	"time"
)

const n, contenders = 1_000_000, 100

func main() {
	var m sync.Mutex
	counter := 0
	t0 := time.Now()
	for i := 0; i < n; i++ {
		m.Lock()
		counter++
		m.Unlock()
	}
	fmt.Printf("lock_uncontended go-P%d %.6g ns/acquire\n", runtime.GOMAXPROCS(0), float64(time.Since(t0).Nanoseconds())/n)

	counter = 0
	var wg sync.WaitGroup
	t0 = time.Now()
	wg.Add(contenders)
	for g := 0; g < contenders; g++ {
		go func() {
			for i := 0; i < n/contenders; i++ {
				m.Lock()
				counter++
				runtime.Gosched()
				m.Unlock()
			}
			wg.Done()
		}()
	}
	wg.Wait()
	if counter != n {
		panic("bad counter")
	}
	fmt.Printf("lock_contended go-P%d %.6g ns/acquire\n", runtime.GOMAXPROCS(0), float64(time.Since(t0).Nanoseconds())/n)
}
