package kpropd

import "os"

// dumpFile writes a dump, in order, to the file it is received into.
//
// Writeback of the data is started as it comes, every writebackUnit,
// rather than all at the final fsync; once written back, all but the
// last writebackUnit of it is dropped from the page cache. The dump goes
// to the disk through the same few megabytes of page cache instead of
// taking a fresh page for each 4 KiB of it: a fresh page costs the kernel
// more than a reused one (much more on a virtual machine whose free
// memory is handed back to its host, where receiving into fresh pages
// took our kpropd three times the kernel time), and a replica's page
// cache is better left to its KDC than filled with a dump the loader
// reads once.
type dumpFile struct {
	f       *os.File
	off     int64 // where the data written so far ends
	started int64 // writeback started up to here
	dropped int64 // written back and dropped up to here
}

// writebackUnit is how much received data is left to the page cache
// before its writing back is started, and how much written data is kept
// there behind it.
const writebackUnit = 8 << 20

// Write appends p. Its error may concern data written earlier, when
// writing it back failed.
func (d *dumpFile) Write(p []byte) error {
	if _, err := d.f.WriteAt(p, d.off); err != nil {
		return err
	}
	d.off += int64(len(p))
	if d.off-d.started < writebackUnit {
		return nil
	}
	startWriteback(d.f, d.started, d.off-d.started)
	d.started = d.off
	if end := d.started - writebackUnit; end-d.dropped >= writebackUnit {
		// An error here must be reported now: waiting for the writeback
		// consumes it, and the final fsync would not see it again.
		if err := dropWritten(d.f, d.dropped, end-d.dropped); err != nil {
			return err
		}
		d.dropped = end
	}
	return nil
}

// Sync commits the file to stable storage.
func (d *dumpFile) Sync() error { return d.f.Sync() }
