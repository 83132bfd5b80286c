package kpropd

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/gokprop/gokprop/dumpfmt"
	"github.com/gokprop/gokprop/internal/filelock"
	"github.com/gokprop/gokprop/internal/wire"
	"github.com/gokprop/gokprop/krb5"
	"github.com/gokprop/gokprop/krbauth"
)

// The e-text sent to a client is MIT's step text with a short reason
// (what MIT kpropd's send_error sends where it sends anything); replica
// paths, OS error chains and loader output stay in the log.
func TestPeerTextHasNoLocalDetail(t *testing.T) {
	const file = "/secret/replica/from_master"
	p := &Peer{Client: krb5.HostPrincipal("host", "primary.test", "R")}
	pathErr := func(op string, errno syscall.Errno) error {
		return &os.PathError{Op: op, Path: file + ".temp", Err: errno}
	}
	cases := []struct {
		err  *TransferError
		want string
	}{
		{&TransferError{Step: StepWriteBlock, Offset: 65536, File: file, Err: pathErr("write", syscall.ENOSPC)},
			"No space left on device while writing database block starting at offset 65536"},
		{&TransferError{Step: StepSync, File: file, Err: pathErr("sync", syscall.EIO)},
			"Input/output error while writing the database file"},
		{&TransferError{Step: StepOpen, File: file, Err: pathErr("open", syscall.EACCES)},
			"Permission denied while opening the database file"},
		{&TransferError{Step: StepLock, File: file, Err: filelock.ErrLocked},
			"Resource temporarily unavailable while trying to lock the database file"},
		{&TransferError{Step: StepRename, File: file, Err: &os.LinkError{Op: "rename", Old: file + ".temp", New: file, Err: syscall.EXDEV}},
			"Invalid cross-device link while renaming the received database into place"},
		{&TransferError{Step: StepLoad, File: file, Err: &LoadError{Msg: "/usr/sbin/kdb5_util returned a bad exit status (1): " + file + ": bad", Err: &exec.ExitError{}}},
			"Load failed while loading the database"},
		{&TransferError{Step: StepLoad, File: file, Err: fmt.Errorf("%w while trying to exec /usr/sbin/kdb5_util", &os.PathError{Op: "fork/exec", Path: "/usr/sbin/kdb5_util", Err: syscall.ENOENT})},
			"No such file or directory while loading the database"},
		{&TransferError{Step: StepVerify, File: file, Err: errors.New(file + ".temp: line 3: not a principal")},
			"Invalid database dump while verifying the received database"},
		{&TransferError{Step: StepVerify, File: file, Err: &dumpfmt.ParseError{File: "from_master", Line: 2, Field: "len", Err: dumpfmt.ErrSyntax}},
			"from_master:2: field len: " + dumpfmt.ErrSyntax.Error() + " while verifying the received database"},
		{&TransferError{Step: StepAuthorize, Err: fmt.Errorf("%w %s: %w", ErrNotAuthorized, p.Client, pathErr("open", syscall.EACCES))},
			"Rejected connection from unauthorized principal host/primary.test@R"},
		{&TransferError{Step: StepMalformedSize, Err: wire.ErrMalformedSize}, "malformed database size message"},
		{&TransferError{Step: StepTooMuchData, Err: &TooMuchDataError{Received: 20, Expected: 10}},
			"Received 20 bytes, expected 10 bytes for database file"},
		{&TransferError{Step: StepDecodeBlock, Offset: 32768, Err: krb5.ErrBadIntegrity},
			"while decoding database block starting at offset 32768"},
		{&TransferError{Step: StepReadBlock, Offset: 98304, Err: fmt.Errorf("%w: %w", krbauth.ErrConnAborted, io.ErrUnexpectedEOF)},
			"Software caused connection abort while reading database block starting at offset 98304"},
		{&TransferError{Step: StepReadSize, Err: fmt.Errorf("%w (4294967280 bytes, limit 67108864)", krbauth.ErrMessageTooLarge)},
			"Message too large while reading database size"},
		{&TransferError{Step: StepWriteBlock, File: file, Err: errors.New("something " + file)},
			"Internal error while writing database block starting at offset 0"},
	}
	for _, c := range cases {
		got := peerText(c.err, p)
		if got != c.want {
			t.Errorf("%v (step %v):\n got %q\nwant %q", c.err, c.err.Step, got, c.want)
		}
		if strings.Contains(got, "/secret") {
			t.Errorf("%q names a local path", got)
		}
		// The log keeps the detail.
		if strings.Contains(c.err.Err.Error(), "/secret") && !strings.Contains(c.err.Error(), "/secret") {
			t.Errorf("log text %q lost the detail", c.err.Error())
		}
	}
}
