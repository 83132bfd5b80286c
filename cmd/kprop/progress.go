package main

import (
	"io"
	"os"
	"sync/atomic"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
	"golang.org/x/sys/unix"
)

// isTerminal reports whether w is a terminal that can show progress bars:
// an *os.File for which the terminal ioctl succeeds, with TERM set and not
// "dumb". Standard error under cron, a pipe or a file never is.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	if t := os.Getenv("TERM"); t == "" || t == "dumb" {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// bars shows a progress bar per replica on a terminal: the bytes sent of
// the dump, the percentage, the average rate and the time left while
// sending, "connecting" before and "loading" while the replica loads the
// dump. A bar disappears when its
// replica is done, so that the terminal is left with MIT's lines only.
type bars struct {
	p     *mpb.Progress
	bars  []*mpb.Bar
	state []atomic.Int32
	size  int64
}

// Bar states.
const (
	barWaiting int32 = iota // connecting and authenticating
	barSending
	barLoading // all sent; the replica is loading it
)

func newBars(w io.Writer, labels []string, size int64) *bars {
	b := &bars{
		p:     mpb.New(mpb.WithOutput(w), mpb.WithWidth(100), mpb.WithRefreshRate(150*time.Millisecond)),
		state: make([]atomic.Int32, len(labels)),
		size:  size,
	}
	for i, label := range labels {
		st := &b.state[i]
		status := func(s decor.Statistics) string {
			switch st.Load() {
			case barWaiting:
				return "connecting"
			case barLoading:
				return "loading"
			}
			return ""
		}
		sending := func() bool { return st.Load() == barSending }
		bar := b.p.AddBar(0,
			mpb.BarRemoveOnComplete(),
			mpb.PrependDecorators(
				decor.Name(label, decor.WCSyncSpaceR),
				decor.Counters(decor.SizeB1024(0), "% .1f / % .1f", decor.WCSyncSpace),
			),
			mpb.AppendDecorators(
				decor.Percentage(decor.WC{W: 5}),
				// The rate and the time left while sending, then what the
				// replica is doing.
				decor.Predicative(sending,
					decor.AverageSpeed(decor.SizeB1024(0), "% .1f", decor.WCSyncSpace),
					decor.Any(status, decor.WCSyncSpace)),
				decor.Predicative(sending,
					decor.AverageETA(decor.ET_STYLE_GO, decor.WCSyncSpace),
					decor.Any(func(decor.Statistics) string { return "" })),
			),
		)
		bar.SetTotal(size, false)
		b.bars = append(b.bars, bar)
	}
	return b
}

// started marks replica i's propagation as begun: its rate and ETA count
// from now.
func (b *bars) started(i int) {
	_ = b.bars[i].DecoratorAverageAdjust(time.Now())
}

func (b *bars) progress(i int, sent int64) {
	b.state[i].Store(barSending)
	if sent >= b.size {
		b.state[i].Store(barLoading)
	}
	b.bars[i].SetCurrent(sent)
}

// done removes replica i's bar.
func (b *bars) done(i int, ok bool) {
	if ok {
		b.bars[i].SetTotal(-1, true)
		return
	}
	b.bars[i].Abort(true)
}

// wait returns once every bar is gone from the terminal.
func (b *bars) wait() {
	for _, bar := range b.bars {
		if !bar.Completed() {
			bar.Abort(true)
		}
	}
	b.p.Wait()
}
