package krbauth

import (
	"crypto/cipher"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"sync"
	"time"
	"unsafe"

	"github.com/gokprop/gokprop/internal/kcrypto"
)

// aLongTimeAgo is a deadline in the past, which interrupts blocked I/O.
var aLongTimeAgo = time.Unix(1, 0)

// DefaultStreamDepth is the number of messages a PrivWriter or PrivReader
// keeps in flight when its options leave Depth at 0: enough for reading,
// encrypting (or decrypting) and writing to overlap, few enough that a
// stream of 32 KiB messages holds a few hundred kilobytes.
const DefaultStreamDepth = 6

// StreamError reports the message of a PrivWriter's stream that could not
// be sent. Index counts the stream's messages from 0. It unwraps to the
// cause, so errors.Is(err, ErrTransport) tells a failed write from a
// failure to build the message.
type StreamError struct {
	Index int
	Err   error
}

// Error returns the cause's text.
func (e *StreamError) Error() string { return e.Err.Error() }

// Unwrap returns the cause.
func (e *StreamError) Unwrap() error { return e.Err }

// PrivWriterOptions configure a PrivWriter.
type PrivWriterOptions struct {
	// MaxData is the most user data one message carries; Buffer refuses
	// more. It must be positive.
	MaxData int
	// Depth is the number of messages in flight; 0 means
	// DefaultStreamDepth. Memory is about 2*Depth*MaxData.
	Depth int
	// Total is the user data the whole stream will carry: the size kprop
	// announced. It is required once the fast data phase has been
	// negotiated (State.FastData), where records are bound to it and
	// Buffer refuses data beyond it, and MaxData is then at most
	// FastRecordSize. MIT's KRB-PRIV stream ignores it.
	Total int64
	// Written, if set, is called with the user data length of each
	// message once the message has been written to the connection, in
	// order, from one of the PrivWriter's goroutines (never two calls at
	// once). Every call happens before Close returns.
	Written func(n int)
}

// PrivWriter sends a stream of KRB-PRIV messages, each exactly the frame
// WritePriv would send for the same data at that point of the stream,
// with the work on successive messages overlapped: while the caller fills
// one message's buffer (reading a dump into it), earlier messages are
// encrypted in place, in order, by one goroutine (the chained cipher
// state fixes their order), and finished frames are written to the
// connection, in order, several at a time when several are ready, by
// another. The integrity tag is computed by the caller's goroutine in
// Send when it covers the plaintext (aes-sha1, des3), by the writing one
// when it covers the ciphertext (aes-sha2). Each message is built where
// it is sent from: the caller reads its data straight into the frame. Enctypes without a pipelined cipher (RC4) are sealed whole by
// the encrypting goroutine. At most Depth messages are in flight, in
// buffers allocated by NewPrivWriter: the stream allocates nothing per
// message.
//
// The caller drives it from one goroutine: Buffer, fill, Send, and
// finally Close. Sealing or writing fails asynchronously; the failure is
// reported, as a *StreamError, by the next Buffer, Send or Close, and
// every message after the failed one is dropped. While a PrivWriter is
// open the Conn must not be used otherwise; after Close it may be again
// (its sequence number and cipher state follow the messages sent).
type PrivWriter struct {
	c        *Conn
	s        *session
	pipe     kcrypto.Pipelined // nil: messages are sealed whole (sealPriv)
	tagLen   int
	tagPlain bool // the tag is over the plaintext: computed in Send, before encryption
	// callerWorker computes the tags over the plaintext, in Send.
	callerWorker kcrypto.Worker
	max          int
	written      func(int)
	// The fast data phase: the AEAD, the total and the offset of the
	// next record; nil fast means MIT's KRB-PRIV stream.
	fast          cipher.AEAD
	total, offset int64

	free   chan *wslot
	encQ   chan *wslot // to the encrypting goroutine
	writeQ chan *wslot // to the writing goroutine
	done   chan struct{}

	cur    *wslot // handed out by Buffer, not yet sent
	issued int    // messages handed out
	// The writer's vector of frames, and its backing array (WriteTo
	// consumes the vector; it is not on the stack, where WriteTo would
	// make it escape).
	bufs, bufArr net.Buffers

	mu     sync.Mutex
	err    error // the first failure, a *StreamError
	closed bool
}

// wslot is one message in flight.
type wslot struct {
	index  int
	n      int
	off    int64  // fast data: the record's offset in the stream
	pt     []byte // not pipelined: the user data (pipelined, it is sealed in frame)
	frame  []byte // length prefix, KRB-PRIV header, ciphertext, tag
	buf    []byte // KRB-PRIV: where frame is placed, dataAlign bytes longer
	flen   int    // of the finished frame
	lay    privLayout
	ptLen  int
	before kcrypto.State
	err    error
}

// NewPrivWriter starts a PrivWriter on c, whose handshake must be
// complete. Call StartChaining first, as kprop does: the stream is
// pipelined only with a chained cipher state.
func (c *Conn) NewPrivWriter(opts PrivWriterOptions) (*PrivWriter, error) {
	if err := c.handshake(); err != nil {
		return nil, err
	}
	if opts.MaxData <= 0 {
		return nil, fmt.Errorf("krbauth: PrivWriter with MaxData %d", opts.MaxData)
	}
	depth := opts.Depth
	if depth <= 0 {
		depth = DefaultStreamDepth
	}
	s := c.sess
	w := &PrivWriter{c: c, s: s, max: opts.MaxData, written: opts.Written,
		free: make(chan *wslot, depth), encQ: make(chan *wslot, depth),
		writeQ: make(chan *wslot, depth),
		done:   make(chan struct{})}
	if s.fastKey != nil {
		if opts.MaxData > FastRecordSize {
			return nil, fmt.Errorf("krbauth: PrivWriter with MaxData %d, fast data records hold at most %d", opts.MaxData, FastRecordSize)
		}
		if opts.Total < 0 {
			return nil, fmt.Errorf("krbauth: PrivWriter with Total %d", opts.Total)
		}
		aead, err := newFastAEAD(s.fastKey)
		if err != nil {
			return nil, err
		}
		w.fast, w.total = aead, opts.Total
		for range depth {
			buf := make([]byte, frameHeaderLen+1+opts.MaxData+fastTagLen+dataAlign)
			w.free <- &wslot{frame: alignedAt(buf, frameHeaderLen+1)}
		}
		go w.encrypt()
		go w.write(nil)
		return w, nil
	}
	if p, ok := s.priv.(kcrypto.Pipelined); ok && s.chained {
		w.pipe, w.tagLen, w.tagPlain = p, p.TagLen(), p.TagOverPlaintext()
	}
	// The largest message: MaxData bytes, the longest sequence number.
	big := s.layoutPriv(opts.MaxData, 1<<31)
	for range depth {
		sl := &wslot{buf: make([]byte, frameHeaderLen+big.total+dataAlign)}
		sl.frame = sl.buf[:frameHeaderLen+big.total]
		if w.pipe == nil {
			sl.pt = make([]byte, opts.MaxData)
		}
		w.free <- sl
	}
	go w.encrypt()
	var wk kcrypto.Worker // the writing goroutine's, for tags over ciphertext
	if w.pipe != nil {
		if w.tagPlain {
			w.callerWorker = w.pipe.NewWorker()
		} else {
			wk = w.pipe.NewWorker()
		}
	}
	go w.write(wk)
	return w, nil
}

// Buffer returns the buffer for the user data of the next message, n
// bytes long (0 <= n <= MaxData), waiting while every buffer is in
// flight. Fill it, then call Send. It reports an earlier message's
// failure instead.
func (w *PrivWriter) Buffer(n int) ([]byte, error) {
	if w.cur != nil {
		return nil, errors.New("krbauth: PrivWriter.Buffer called twice without Send")
	}
	if n < 0 || n > w.max {
		return nil, fmt.Errorf("krbauth: PrivWriter message of %d bytes, limit %d", n, w.max)
	}
	if err := w.failure(); err != nil {
		return nil, err
	}
	if w.closed {
		return nil, errors.New("krbauth: PrivWriter is closed")
	}
	if w.fast != nil && (n == 0 || int64(n) > w.total-w.offset) {
		return nil, fmt.Errorf("krbauth: PrivWriter record of %d bytes at offset %d of %d", n, w.offset, w.total)
	}
	sl := <-w.free
	sl.index, sl.n, sl.err = w.issued, n, nil
	w.issued++
	if w.fast != nil {
		sl.off = w.offset
		w.offset += int64(n)
		sl.flen = frameHeaderLen + 1 + n + fastTagLen
		binary.BigEndian.PutUint32(sl.frame, uint32(sl.flen-frameHeaderLen))
		sl.frame[frameHeaderLen] = fastRecordType
		w.cur = sl
		return sl.frame[frameHeaderLen+1 : frameHeaderLen+1+n], nil
	}
	if w.pipe == nil {
		w.cur = sl
		return sl.pt[:n], nil
	}
	s := w.s
	if len(s.localAddr.Address) == 0 {
		w.free <- sl
		w.issued--
		return nil, errLocalAddrRequired
	}
	// Everything but the user data and the encryption is done here, in
	// message order: the layout for this sequence number, the confounder
	// (the session's randomness is read by one goroutine only), the DER
	// around the data and the KRB-PRIV header.
	l := s.layoutPriv(n, s.localSeq)
	sl.lay = l
	sl.ptLen = l.ctLen - w.tagLen
	// The plaintext is built where its ciphertext goes, and encrypted in
	// place; the frame is placed in the slot's buffer so that the user
	// data is aligned.
	off := frameHeaderLen + l.ctOff
	sl.frame = alignedAt(sl.buf, off+l.dataOff)
	pt := sl.frame[off : off+sl.ptLen]
	if _, err := io.ReadFull(s.rand, pt[:l.cipherPrefix]); err != nil {
		w.free <- sl
		w.issued--
		w.fail(sl.index, fmt.Errorf("confounder: %w", err))
		return nil, w.failure()
	}
	l.putDER(pt)
	clear(pt[l.cipherPrefix+l.derLen:]) // padding (des3)
	sl.flen = frameHeaderLen + l.total
	frame := sl.frame[:sl.flen]
	binary.BigEndian.PutUint32(frame, uint32(l.total))
	l.putHeader(frame[frameHeaderLen:])
	s.localSeq++
	w.cur = sl
	return pt[l.dataOff : l.dataOff+n], nil
}

// Send queues the message whose buffer Buffer returned. It reports an
// earlier message's failure, if one is known already.
func (w *PrivWriter) Send() error {
	sl := w.cur
	if sl == nil {
		return errors.New("krbauth: PrivWriter.Send without Buffer")
	}
	w.cur = nil
	if w.pipe != nil && w.tagPlain {
		// The tag over the plaintext, before it is encrypted in place,
		// while the encrypting goroutine works on earlier messages.
		w.tag(w.callerWorker, sl)
	}
	w.encQ <- sl
	return w.failure()
}

// Close waits until every message sent has been written (or dropped after
// a failure), stops the goroutines and returns the first failure. A
// buffer handed out by Buffer but not sent is dropped. Close may be
// called again; it returns the same.
func (w *PrivWriter) Close() error {
	if !w.closed {
		w.closed = true
		if sl := w.cur; sl != nil {
			w.cur = nil
			w.issued--
			if w.fast != nil {
				w.offset -= int64(sl.n)
			} else if w.pipe != nil {
				w.s.localSeq-- // its number was never used
			}
			w.free <- sl
		}
		close(w.encQ)
		<-w.done
	}
	return w.failure()
}

func (w *PrivWriter) failure() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// fail records the first failure.
func (w *PrivWriter) fail(index int, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err == nil {
		w.err = &StreamError{Index: index, Err: err}
	}
}

// encrypt is the goroutine that owns the chained cipher state.
func (w *PrivWriter) encrypt() {
	defer close(w.writeQ)
	var nonce [12]byte
	var aad [fastAADLen]byte
	for sl := range w.encQ {
		if w.fast != nil {
			// Sealed in place: the tag goes into the room after the data.
			pt := sl.frame[frameHeaderLen+1 : frameHeaderLen+1+sl.n]
			fastNonce(&nonce, uint64(sl.index))
			fastAAD(&aad, sl.off, w.total)
			w.fast.Seal(pt[:0], nonce[:], pt, aad[:])
			w.writeQ <- sl
			continue
		}
		if w.pipe == nil {
			frame, err := w.s.sealPriv(startFrame(sl.frame[:0]), sl.pt[:sl.n])
			if err == nil {
				err = finishFrame(frame)
			}
			sl.frame, sl.flen, sl.err = frame[:cap(frame)], len(frame), err
			w.writeQ <- sl
			continue
		}
		off := frameHeaderLen + sl.lay.ctOff
		body := sl.frame[off : off+sl.ptLen]
		sl.before = w.pipe.EncryptNext(body, body)
		w.writeQ <- sl
	}
}

// tag computes a pipelined message's integrity tag: over the plaintext
// before it is encrypted, or over the state and the ciphertext after.
func (w *PrivWriter) tag(wk kcrypto.Worker, sl *wslot) {
	off := frameHeaderLen + sl.lay.ctOff
	body := sl.frame[off : off+sl.ptLen]
	tag := sl.frame[off+sl.ptLen : off+sl.lay.ctLen]
	if w.tagPlain {
		wk.Tag(tag, kcrypto.State{}, body, nil)
	} else {
		wk.Tag(tag, sl.before, nil, body)
	}
}

// frameOf returns the finished frame of a slot.
func (w *PrivWriter) frameOf(sl *wslot) []byte { return sl.frame[:sl.flen] }

// write is the goroutine that writes the finished frames, in order, as
// many in one writev as are ready, computing first the tags that cover
// the ciphertext (while the next messages are being encrypted).
func (w *PrivWriter) write(wk kcrypto.Worker) {
	defer close(w.done)
	batch := make([]*wslot, 0, cap(w.free))
	w.bufArr = make(net.Buffers, 0, cap(w.free))
	for {
		sl, ok := <-w.writeQ
		if !ok {
			return
		}
		batch = append(batch[:0], sl)
	more:
		for len(batch) < cap(batch) {
			select {
			case next, ok := <-w.writeQ:
				if !ok {
					break more
				}
				batch = append(batch, next)
			default:
				break more
			}
		}
		if wk != nil && w.failure() == nil {
			for _, sl := range batch {
				w.tag(wk, sl)
			}
		}
		w.flush(batch)
	}
}

// flush writes a batch of slots and recycles them.
func (w *PrivWriter) flush(batch []*wslot) {
	failed := w.failure() != nil
	bufs := w.bufArr[:0]
	for _, sl := range batch {
		if failed {
			break
		}
		if sl.err != nil {
			w.fail(sl.index, sl.err)
			failed = true
			break
		}
		bufs = append(bufs, w.frameOf(sl))
	}
	if sent := len(bufs); sent > 0 {
		w.bufs = bufs
		n, err := w.bufs.WriteTo(w.c.conn) // consumes w.bufs
		if err != nil {
			// The first message not written whole is the one that failed.
			i := 0
			for ; i < len(batch)-1 && n >= int64(len(w.frameOf(batch[i]))); i++ {
				n -= int64(len(w.frameOf(batch[i])))
			}
			w.fail(batch[i].index, transport(err))
		} else if w.written != nil {
			for _, sl := range batch[:sent] {
				w.written(sl.n)
			}
		}
	}
	for _, sl := range batch {
		w.free <- sl
	}
}

// PrivReaderOptions configure a PrivReader.
type PrivReaderOptions struct {
	// Total is the amount of user data expected: the reader reads ahead
	// only messages that are needed to reach it whatever the sizes of
	// those in flight, so it never reads a message the caller will not
	// ask for. It must be positive.
	Total int64
	// Depth is the number of messages in flight; 0 means
	// DefaultStreamDepth.
	Depth int
	// Workers is the number of goroutines verifying and decrypting; 0
	// means GOMAXPROCS, at most Depth-2.
	Workers int
	// Inspect, if set, is called with each message's user data as soon
	// as it is verified and decrypted, by the goroutine that did it:
	// concurrently for successive messages, in any order, before Next
	// returns them. It is where work on the data that does not depend on
	// earlier messages can run in parallel (kpropd prechecks the dump
	// there). index is the message's place in the stream, from 0; data
	// is what Next returns for it (unless Next then finds it out of
	// sequence) and stays unchanged until the call of Next after that
	// one. Message index+Depth is not inspected before that call, so
	// state kept per message can live in Depth entries indexed by
	// index % Depth.
	Inspect func(index int, data []byte)
}

// PrivReader receives a stream of KRB-PRIV messages, each checked and
// decrypted exactly as ReadPriv would check it at that point of the
// stream, with the work on successive messages overlapped: one goroutine
// reads frames from the connection ahead of the caller, several verify and
// decrypt them in parallel (with a chained cipher state each message
// starts from the state the previous one's ciphertext determines, known
// as soon as that frame is read), and the caller takes the results in
// order with Next, where the sequence numbers are checked and the
// session's state advanced. Enctypes without a pipelined cipher (RC4) are
// opened in order by one goroutine. At most Depth messages are in flight,
// in buffers allocated by NewPrivReader: the stream allocates nothing per
// message once its buffers have grown to the largest message.
//
// The caller drives it from one goroutine, Next until it has the Total it
// expects, then Close. While a PrivReader is open the Conn must not be
// used otherwise.
type PrivReader struct {
	c       *Conn
	s       *session
	pipe    kcrypto.Pipelined
	total   int64
	max     int
	workers int
	fast    []byte // the fast data phase's key; nil: KRB-PRIV
	inspect func(index int, data []byte)

	back  chan *rslot // slots the caller is done with, to the reader
	work  chan *rslot // to the workers
	order chan *rslot // to Next, in order
	quit  chan struct{}
	rdone chan struct{}
	wg    sync.WaitGroup

	slots []*rslot
	hdr   [frameHeaderLen]byte // the reader's
	cur   *rslot               // returned by the last Next
	err   error                // Next's sticky failure

	mu      sync.Mutex
	reading bool // the reader is in a read of the connection
	stopped bool // Close has been called
	closed  bool
	abandon bool // Close interrupted a read
}

// rslot is one message in flight.
type rslot struct {
	index         int
	frame         []byte
	ct            []byte // the ciphertext, in frame
	pt            []byte // not pipelined: the user data (pipelined, it is opened in place)
	before, after kcrypto.State
	data          []byte
	seq           uint32
	upper         int64 // a bound on its user data
	off           int64 // fast data: the record's offset in the stream
	err           error
	done          chan struct{}
}

// ErrStreamEnd is returned by PrivReader.Next when the caller asks for
// more than the Total the reader was started with.
var ErrStreamEnd = errors.New("krbauth: PrivReader: no message beyond the expected total")

// NewPrivReader starts a PrivReader on c, whose handshake must be
// complete. Call StartChaining first, as kpropd does: messages are opened
// in parallel only with a chained cipher state.
func (c *Conn) NewPrivReader(opts PrivReaderOptions) (*PrivReader, error) {
	if err := c.handshake(); err != nil {
		return nil, err
	}
	if opts.Total <= 0 {
		return nil, fmt.Errorf("krbauth: PrivReader with Total %d", opts.Total)
	}
	depth := opts.Depth
	if depth <= 0 {
		depth = DefaultStreamDepth
	}
	s := c.sess
	r := &PrivReader{c: c, s: s, total: opts.Total, max: c.frames.max, inspect: opts.Inspect,
		back: make(chan *rslot, depth), work: make(chan *rslot, depth), order: make(chan *rslot, depth),
		quit: make(chan struct{}), rdone: make(chan struct{})}
	if r.max <= 0 {
		r.max = DefaultMaxMessageSize
	}
	workers := 1
	if s.fastKey != nil {
		r.fast = s.fastKey
		r.max = min(r.max, 1+FastRecordSize+fastTagLen)
		workers = opts.Workers
		if workers <= 0 {
			workers = runtime.GOMAXPROCS(0)
		}
		workers = max(1, min(workers, depth-2))
	} else if p, ok := s.priv.(kcrypto.Pipelined); ok && s.chained {
		r.pipe = p
		workers = opts.Workers
		if workers <= 0 {
			workers = runtime.GOMAXPROCS(0)
		}
		workers = max(1, min(workers, depth-2))
	}
	r.workers = workers
	for range depth {
		r.slots = append(r.slots, &rslot{done: make(chan struct{}, 1)})
	}
	r.wg.Add(workers)
	for range workers {
		if r.fast != nil {
			aead, err := newFastAEAD(r.fast)
			if err != nil {
				panic(err) // a 32-byte key always makes an AES-256-GCM
			}
			go r.openFast(aead)
		} else if r.pipe != nil {
			go r.open(r.pipe.NewWorker())
		} else {
			go r.openSerial()
		}
	}
	go r.read()
	return r, nil
}

// Next returns the user data of the next message, checked and decrypted
// as ReadPriv does (a KRB-ERROR from the peer as a *RemoteError; a
// failed read matches ErrTransport). The data is valid until the next
// call of Next or Close. After an error Next returns it again.
func (r *PrivReader) Next() ([]byte, error) {
	if r.err != nil {
		return nil, r.err
	}
	if r.closed {
		return nil, errors.New("krbauth: PrivReader is closed")
	}
	if sl := r.cur; sl != nil {
		r.cur = nil
		r.back <- sl
	}
	sl, ok := <-r.order
	if !ok {
		r.err = ErrStreamEnd
		return nil, r.err
	}
	<-sl.done
	if sl.err != nil {
		r.err = sl.err
		return nil, r.err
	}
	if r.pipe != nil && r.fast == nil {
		sane, heimdal, err := r.s.checkSeq(sl.seq)
		if err != nil {
			r.err = err
			return nil, err
		}
		r.s.acceptSeq(sane, heimdal)
		r.pipe.SetChainState(sl.after)
	}
	r.cur = sl
	return sl.data, nil
}

// Close stops the PrivReader's goroutines. When it has to interrupt a read
// of the connection (the caller stopped before the Total, after an error
// for instance), it does so by setting the connection's read deadline in
// the past, and leaves it there: set a new one before reading the
// connection again. It returns nil.
func (r *PrivReader) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	r.mu.Lock()
	r.stopped = true
	interrupt := r.reading
	r.abandon = interrupt
	r.mu.Unlock()
	close(r.quit)
	if interrupt {
		_ = r.c.conn.SetReadDeadline(aLongTimeAgo)
	}
	<-r.rdone
	r.wg.Wait()
	return nil
}

// read is the goroutine that reads frames ahead of the caller.
func (r *PrivReader) read() {
	defer close(r.rdone)
	defer close(r.order)
	defer close(r.work)
	free := r.slots
	var known, bound int64 // user data of the messages handed back; bounds of those in flight
	outstanding := 0
	var state kcrypto.State
	if r.pipe != nil {
		state = r.pipe.ChainState()
	}
	var offset int64 // fast data: of the next record
	for index := 0; ; index++ {
		// Read the next frame only if it is needed whatever the sizes of
		// those in flight, and a buffer is free.
		for len(free) == 0 || known+bound >= r.total {
			if outstanding == 0 {
				return // everything needed has been handed back
			}
			select {
			case sl := <-r.back:
				known += int64(len(sl.data))
				bound -= sl.upper
				outstanding--
				free = append(free, sl)
			case <-r.quit:
				return
			}
		}
		sl := free[len(free)-1]
		free = free[:len(free)-1]
		sl.index, sl.err, sl.data = index, nil, nil
		if !r.readFrame(sl) {
			return
		}
		terminal := sl.err != nil
		if !terminal && r.fast != nil {
			// The shape is checked here, the contents by openFast.
			n := int64(len(sl.frame)) - 1 - fastTagLen
			switch {
			case len(sl.frame) == 0 || sl.frame[0] != fastRecordType:
				sl.err = fastShapeError(sl.frame)
			case n <= 0 || n > r.total-offset:
				sl.err = fmt.Errorf("%w: %d bytes at offset %d of %d", ErrFastRecord, len(sl.frame), offset, r.total)
			}
			terminal = sl.err != nil
			sl.off = offset
			offset += n
		} else if !terminal {
			sl.ct, sl.err = r.s.privCiphertext(sl.frame)
			terminal = sl.err != nil
		}
		if !terminal && r.pipe != nil {
			sl.before = state
			var err error
			if sl.after, err = r.pipe.NextState(state, sl.ct); err != nil {
				sl.err, terminal = cryptoErr(err), true
			}
			state = sl.after
		}
		if terminal {
			// Nothing after a broken frame can be read or opened.
			sl.done <- struct{}{}
			r.order <- sl
			return
		}
		sl.upper = int64(len(sl.frame))
		bound += sl.upper
		outstanding++
		if r.pipe == nil && r.fast == nil && cap(sl.pt) < len(sl.frame) {
			sl.pt = make([]byte, len(sl.frame))
		}
		r.work <- sl
		r.order <- sl
	}
}

// readFrame reads one frame into sl.frame, or records why it could not.
// It returns false when Close stopped the reader.
func (r *PrivReader) readFrame(sl *rslot) bool {
	r.mu.Lock()
	if r.stopped {
		r.mu.Unlock()
		return false
	}
	r.reading = true
	r.mu.Unlock()
	err := r.readInto(sl)
	r.mu.Lock()
	r.reading = false
	stopped := r.stopped
	r.mu.Unlock()
	if stopped {
		return false
	}
	if err != nil {
		sl.err = transport(err)
	}
	return true
}

func (r *PrivReader) readInto(sl *rslot) error {
	hdr := r.hdr[:] // not on the stack: it would escape, once a frame
	if _, err := io.ReadFull(r.c.frames.r, hdr); err != nil {
		return readErr(err)
	}
	n := binary.BigEndian.Uint32(hdr)
	if uint64(n) > uint64(r.max) {
		return fmt.Errorf("read message: %w (%d bytes, limit %d)", ErrMessageTooLarge, n, r.max)
	}
	if cap(sl.frame) < int(n) {
		sl.frame = make([]byte, n)
	}
	sl.frame = sl.frame[:n]
	if _, err := io.ReadFull(r.c.frames.r, sl.frame); err != nil {
		return readErr(err)
	}
	return nil
}

// open is a worker goroutine of a pipelined PrivReader.
func (r *PrivReader) open(wk kcrypto.Worker) {
	defer r.wg.Done()
	for sl := range r.work {
		der, err := wk.Open(sl.ct, sl.ct, sl.before) // in place
		if err != nil {
			sl.err = cryptoErr(err)
		} else {
			var body privSafeBody
			if body, sl.err = r.s.privBody(der); sl.err == nil {
				sl.data, sl.seq = body.userData, body.seq
				r.inspected(sl)
			}
		}
		sl.done <- struct{}{}
	}
}

// openFast is a worker goroutine of a PrivReader in the fast data phase.
func (r *PrivReader) openFast(aead cipher.AEAD) {
	defer r.wg.Done()
	o := &fastOpener{aead: aead}
	for sl := range r.work {
		if sl.data, sl.err = o.open(sl.frame, uint64(sl.index), sl.off, r.total); sl.err == nil {
			r.inspected(sl)
		}
		sl.done <- struct{}{}
	}
}

// openSerial is the one worker of a PrivReader whose enctype is not
// pipelined: it opens the messages in order with the session's own
// state, as ReadPriv does.
func (r *PrivReader) openSerial() {
	defer r.wg.Done()
	failed := false
	for sl := range r.work {
		if failed {
			sl.err = errors.New("krbauth: message after a failed one")
		} else {
			sl.data, sl.err = r.s.openPriv(sl.pt[:0], sl.frame)
			if failed = sl.err != nil; !failed {
				r.inspected(sl)
			}
		}
		sl.done <- struct{}{}
	}
}

// inspected hands a decrypted message to the Inspect callback.
func (r *PrivReader) inspected(sl *rslot) {
	if r.inspect != nil {
		r.inspect(sl.index, sl.data)
	}
}

// dataAlign is the alignment of the user data in a PrivWriter's buffers,
// which the caller fills, typically by reading a file: on x86-64 the
// kernel copies into a destination that is not 32-byte aligned several
// times slower (kprop's BenchmarkReadDumpInto: reading a cached file at
// about 2 GB/s into a buffer 5 bytes off, 11 GB/s into an aligned one).
const dataAlign = 64

// alignedAt returns the part of buf, which has dataAlign bytes to spare,
// that starts where its byte at index off is dataAlign-aligned.
func alignedAt(buf []byte, off int) []byte {
	addr := int(uintptr(unsafe.Pointer(unsafe.SliceData(buf))))
	pad := (dataAlign - (addr+off)%dataAlign) % dataAlign
	return buf[pad : len(buf)-dataAlign+pad : len(buf)-dataAlign+pad]
}
