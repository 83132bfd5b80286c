// Command fakekpropd takes MIT kpropd's standalone-mode arguments, prints
// "ready" like kpropd -D, and then hangs up on every connection after
// reading the sendauth version strings. The interop harness uses it to
// check that a propagation to a broken receiver fails.
package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"time"
)

func main() {
	fs := flag.NewFlagSet("fakekpropd", flag.ExitOnError)
	port := fs.String("P", "754", "port")
	fs.Bool("D", false, "do not detach")
	fs.Bool("d", false, "debug")
	for _, name := range []string{"f", "p", "a", "s", "r"} {
		fs.String(name, "", "ignored")
	}
	fs.Parse(os.Args[1:])
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", *port))
	if err != nil {
		fmt.Fprintln(os.Stderr, "fakekpropd:", err)
		os.Exit(1)
	}
	fmt.Println("ready")
	for {
		c, err := l.Accept()
		if err != nil {
			os.Exit(1)
		}
		fmt.Println("Connection from", c.RemoteAddr())
		c.SetDeadline(time.Now().Add(5 * time.Second))
		// Two length-prefixed version strings: "KRB5_SENDAUTH_V1.0\0"
		// and "kprop5_01\0".
		io.ReadFull(c, make([]byte, 4+19+4+10))
		c.Close()
	}
}
