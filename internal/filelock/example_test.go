package filelock_test

import (
	"errors"
	"fmt"
	"os"

	"github.com/gokprop/gokprop/internal/filelock"
)

func ExampleLock() {
	f, _ := os.CreateTemp("", "dump")
	defer os.Remove(f.Name())
	defer f.Close()
	g, _ := os.Open(f.Name())
	defer g.Close()

	fmt.Println(filelock.Lock(f, filelock.Exclusive, false))
	err := filelock.Lock(g, filelock.Shared, false)
	fmt.Println(errors.Is(err, filelock.ErrLocked))
	// Output:
	// <nil>
	// true
}
