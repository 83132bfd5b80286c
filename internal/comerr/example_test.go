package comerr_test

import (
	"os"
	"syscall"

	"github.com/gokprop/gokprop/internal/comerr"
)

func ExamplePrint() {
	comerr.Print(os.Stdout, "kprop", syscall.ECONNREFUSED, "while connecting to server")
	// Output: kprop: Connection refused while connecting to server
}
