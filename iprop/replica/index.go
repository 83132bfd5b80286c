package replica

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/gokprop/gokprop/dumpfmt"
	"github.com/gokprop/gokprop/iprop"
)

// The index is this package's copy of the replica's principal records, so
// that a batch reads the records it changes in O(log N) instead of
// dumping the database (kdb5_util dump takes seconds per million
// principals; kdb5_util dump NAME is slower still). Lockout attributes are
// not part of it: they are the replica's own and always read from the
// database.
//
// On disk, in its directory:
//
//	CURRENT         the generation in use; replaced atomically (the commit point)
//	base-G.dump     a dump whose principal lines are sorted by name: a hard
//	                link to the full-resync dump that was loaded, or a dump
//	                this package made or compacted
//	sparse-G        every sparseEvery-th name of base-G.dump with its offset
//	                (rebuilt from the base when missing or stale)
//	journal-G       the batches applied since base-G.dump: checksummed frames,
//	                each synced before the database is written
//
// A frame holds the whole records it stores, not deltas, so replaying a
// journal onto its base, or a batch onto records that already hold it,
// ends in the same state. A torn last frame (a crash while writing it) is
// dropped. A generation's files are never modified once CURRENT names
// another.
type index struct {
	dir     string
	gen     uint64
	header  []byte // the base's header line, for parsing its lines
	base    *os.File
	size    int64 // of the base
	end     int64 // offset after the base's last principal line
	sparse  []sparseEntry
	records int

	overlay      map[string]overlayEntry
	overlayBytes int

	journal     *os.File
	journalSize int64
	// last is the journal's last frame: the batch the index holds that
	// the update log may not (see pendingNames).
	last *frameHead
}

type sparseEntry struct {
	name string
	off  int64
}

type overlayEntry struct {
	line    []byte // the record's dump line with its newline; nil: deleted
	deleted bool
}

// frameHead describes a journal frame: the update log position before
// the batch and after it, and the names it stored or deleted.
type frameHead struct {
	prev, target iprop.Last
	names        []string
}

const (
	sparseEvery   = 64
	currentFile   = "CURRENT"
	currentMagic  = "gokprop replica index 1"
	journalMagic  = "GKRJ"
	journalHeader = 16 // magic, version, generation
	sparseMagic   = "GKRS"
)

// compactMin and compactBytes bound the overlay: past them (and past an
// eighth of the base) the next batch compacts the index. Variables for
// tests.
var (
	compactMin   = 4096
	compactBytes = 64 << 20
)

var errIndexCorrupt = errors.New("replica: index is corrupt")

func (x *index) basePath(gen uint64) string {
	return filepath.Join(x.dir, "base-"+strconv.FormatUint(gen, 10)+".dump")
}
func (x *index) sparsePath(gen uint64) string {
	return filepath.Join(x.dir, "sparse-"+strconv.FormatUint(gen, 10))
}
func (x *index) journalPath(gen uint64) string {
	return filepath.Join(x.dir, "journal-"+strconv.FormatUint(gen, 10))
}

// openIndex opens the index in dir. It returns an index with no base
// (gen 0) when dir has none.
func openIndex(dir string) (*index, error) {
	x := &index{dir: dir, overlay: map[string]overlayEntry{}}
	b, err := os.ReadFile(filepath.Join(dir, currentFile))
	if errors.Is(err, os.ErrNotExist) {
		x.removeGenerationsExcept(0)
		return x, nil
	}
	if err != nil {
		return nil, err
	}
	magic, genText, ok := strings.Cut(strings.TrimSuffix(string(b), "\n"), "\n")
	gen, perr := strconv.ParseUint(genText, 10, 64)
	if !ok || magic != currentMagic || perr != nil || gen == 0 {
		return nil, fmt.Errorf("%w: %s: %q", errIndexCorrupt, currentFile, b)
	}
	x.gen = gen
	x.removeGenerationsExcept(gen)
	if err := x.openBase(); err != nil {
		x.closeFiles()
		return nil, err
	}
	if err := x.replay(); err != nil {
		x.closeFiles()
		return nil, err
	}
	return x, nil
}

// valid reports whether the index has a base.
func (x *index) valid() bool { return x.gen != 0 && x.base != nil }

// openBase opens the generation's base and its sparse index, rebuilding
// the sparse index from the base if it is missing or stale.
func (x *index) openBase() error {
	f, err := os.Open(x.basePath(x.gen))
	if err != nil {
		return err
	}
	x.base = f
	st, err := f.Stat()
	if err != nil {
		return err
	}
	x.size = st.Size()
	if err := x.readSparse(); err == nil {
		return nil
	}
	sc, err := scanBase(f)
	if err != nil {
		return err
	}
	if !sc.sorted {
		return fmt.Errorf("%w: %s is not sorted", errIndexCorrupt, f.Name())
	}
	x.useScan(sc)
	return x.writeSparse()
}

func (x *index) useScan(sc *baseScan) {
	x.header, x.sparse, x.records, x.end = sc.header, sc.sparse, sc.records, sc.end
}

// closeFiles closes the open files without changing anything on disk.
func (x *index) closeFiles() {
	if x.base != nil {
		x.base.Close()
		x.base = nil
	}
	if x.journal != nil {
		x.journal.Close()
		x.journal = nil
	}
}

// baseScan is what scanning a dump finds.
type baseScan struct {
	header  []byte
	sparse  []sparseEntry
	records int
	end     int64
	sorted  bool
	// all holds every principal's name and line extent, only when
	// collected for sorting.
	all []lineRef
}

type lineRef struct {
	name     string
	off, len int64
}

// scanBase reads a dump's lines, noting every sparseEvery-th principal
// name and whether the principals are sorted by name (kdb5_util dumps a
// db2 btree database in that order). With collect, it also keeps every
// principal's line extent.
func scanBase(f *os.File) (*baseScan, error) {
	return scanDump(f, false)
}

func scanDump(f *os.File, collect bool) (*baseScan, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	br := bufio.NewReaderSize(f, 1<<20)
	sc := &baseScan{sorted: true}
	var off int64
	var prev string
	var long []byte
	first := true
	for {
		line, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			long = append(long[:0], line...)
			for err == bufio.ErrBufferFull {
				line, err = br.ReadSlice('\n')
				long = append(long, line...)
			}
			line = long
		}
		if err == io.EOF && len(line) == 0 {
			break
		}
		if err != nil && err != io.EOF {
			return nil, err
		}
		if err == io.EOF {
			return nil, fmt.Errorf("%w: %s: last line has no newline", errIndexCorrupt, f.Name())
		}
		n := int64(len(line))
		if first {
			first = false
			if _, herr := dumpfmt.NewReader(bytes.NewReader(line)).Header(); herr != nil {
				return nil, fmt.Errorf("%s: %w", f.Name(), herr)
			}
			sc.header = slices.Clone(line)
			off += n
			continue
		}
		if name, ok := lineName(line); ok {
			if sc.records > 0 && name <= prev {
				sc.sorted = false
			}
			if sc.records%sparseEvery == 0 {
				sc.sparse = append(sc.sparse, sparseEntry{name: name, off: off})
			}
			if collect {
				sc.all = append(sc.all, lineRef{name: name, off: off, len: n})
			}
			prev = name
			sc.records++
			sc.end = off + n
		}
		off += n
	}
	if first {
		return nil, fmt.Errorf("%w: %s is empty", errIndexCorrupt, f.Name())
	}
	if sc.end == 0 {
		sc.end = int64(len(sc.header))
	}
	return sc, nil
}

// lineName returns the principal name of a "princ" dump line: its seventh
// field.
func lineName(line []byte) (string, bool) {
	if !bytes.HasPrefix(line, []byte("princ\t")) {
		return "", false
	}
	rest := line
	for i := 0; i < 6; i++ {
		j := bytes.IndexByte(rest, '\t')
		if j < 0 {
			return "", false
		}
		rest = rest[j+1:]
	}
	j := bytes.IndexByte(rest, '\t')
	if j < 0 {
		return "", false
	}
	return string(rest[:j]), true
}

// get returns the index's record of name (lockout attributes as the
// index has them), or nil.
func (x *index) get(name string) (*dumpfmt.Principal, error) {
	if e, ok := x.overlay[name]; ok {
		if e.deleted {
			return nil, nil
		}
		return x.parse(e.line)
	}
	line, err := x.baseLine(name)
	if err != nil || line == nil {
		return nil, err
	}
	return x.parse(line)
}

// baseLine finds name's line in the base.
func (x *index) baseLine(name string) ([]byte, error) {
	i, _ := slices.BinarySearchFunc(x.sparse, name, func(e sparseEntry, n string) int { return strings.Compare(e.name, n) })
	// The block starting at the last entry <= name holds it, if anything
	// does.
	if i < len(x.sparse) && x.sparse[i].name == name {
		i++
	}
	if i == 0 {
		return nil, nil
	}
	start := x.sparse[i-1].off
	end := x.end
	if i < len(x.sparse) {
		end = x.sparse[i].off
	}
	if start > end || end > x.size {
		return nil, fmt.Errorf("%w: sparse index beyond the base", errIndexCorrupt)
	}
	buf := make([]byte, end-start)
	if _, err := x.base.ReadAt(buf, start); err != nil {
		return nil, fmt.Errorf("replica: reading the index: %w", err)
	}
	for len(buf) > 0 {
		j := bytes.IndexByte(buf, '\n')
		if j < 0 {
			return nil, fmt.Errorf("%w: block without newline", errIndexCorrupt)
		}
		line := buf[:j+1]
		buf = buf[j+1:]
		n, ok := lineName(line)
		if !ok {
			continue
		}
		switch {
		case n == name:
			return line, nil
		case n > name:
			return nil, nil
		}
	}
	return nil, nil
}

// parse parses one principal line of the base's format.
func (x *index) parse(line []byte) (*dumpfmt.Principal, error) {
	rd := dumpfmt.NewReader(io.MultiReader(bytes.NewReader(x.header), bytes.NewReader(line)))
	rd.FileName = x.basePath(x.gen)
	if _, err := rd.Header(); err != nil {
		return nil, err
	}
	rec, err := rd.Next()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errIndexCorrupt, err)
	}
	p, ok := rec.(*dumpfmt.Principal)
	if !ok {
		return nil, fmt.Errorf("%w: not a principal line", errIndexCorrupt)
	}
	return p, nil
}

// pendingNames returns the names of the journal's last batch when the
// update log does not end with it (at last): a crash came between the
// journal and the log, so the database may hold that batch, part of it,
// or none of it. The primary sends the batch again, and storing its whole
// records repairs the database whatever it holds.
func (x *index) pendingNames(last iprop.Last) map[string]bool {
	if x.last == nil || x.last.target == last {
		return nil
	}
	m := make(map[string]bool, len(x.last.names))
	for _, n := range x.last.names {
		m[n] = true
	}
	return m
}

// record appends a batch to the journal and syncs it, then applies it to
// the overlay. puts are whole records (their lockout attributes are
// dropped: the index never keeps them); deletes are names.
func (x *index) record(prev, target iprop.Last, puts []*dumpfmt.Principal, deletes []string) error {
	var payload []byte
	payload = append(payload, 1)
	payload = appendLast(payload, prev)
	payload = appendLast(payload, target)
	lines := make([][]byte, len(puts))
	head := &frameHead{prev: prev, target: target}
	payload = binary.LittleEndian.AppendUint32(payload, uint32(len(puts)))
	for i, p := range puts {
		q := *p
		q.LastSuccess, q.LastFailed, q.FailAuthCount = 0, 0, 0
		line, err := dumpfmt.AppendPrincipal(nil, &q)
		if err != nil {
			return err
		}
		lines[i] = line
		payload = appendBytes(payload, []byte(p.Name))
		payload = appendBytes(payload, line)
		head.names = append(head.names, p.Name)
	}
	payload = binary.LittleEndian.AppendUint32(payload, uint32(len(deletes)))
	for _, d := range deletes {
		payload = appendBytes(payload, []byte(d))
		head.names = append(head.names, d)
	}
	frame := binary.LittleEndian.AppendUint32(nil, uint32(len(payload)))
	frame = binary.LittleEndian.AppendUint32(frame, crc32.Checksum(payload, crcTable))
	frame = append(frame, payload...)
	if _, err := x.journal.WriteAt(frame, x.journalSize); err != nil {
		return fmt.Errorf("replica: writing the index journal: %w", err)
	}
	if err := x.journal.Sync(); err != nil {
		return fmt.Errorf("replica: syncing the index journal: %w", err)
	}
	x.journalSize += int64(len(frame))
	for i, p := range puts {
		x.setOverlay(p.Name, overlayEntry{line: lines[i]})
	}
	for _, d := range deletes {
		x.setOverlay(d, overlayEntry{deleted: true})
	}
	x.last = head
	return nil
}

func (x *index) setOverlay(name string, e overlayEntry) {
	if old, ok := x.overlay[name]; ok {
		x.overlayBytes -= len(old.line)
	}
	x.overlay[name] = e
	x.overlayBytes += len(e.line)
}

var crcTable = crc32.MakeTable(crc32.Castagnoli)

func appendLast(b []byte, l iprop.Last) []byte {
	b = binary.LittleEndian.AppendUint32(b, l.Sno)
	b = binary.LittleEndian.AppendUint32(b, l.Time.Seconds)
	return binary.LittleEndian.AppendUint32(b, l.Time.Useconds)
}

func appendBytes(b, s []byte) []byte {
	b = binary.LittleEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

// replay opens the generation's journal and applies its frames to the
// overlay, cutting off a torn last frame.
func (x *index) replay() error {
	path := x.journalPath(x.gen)
	f, err := os.OpenFile(path, os.O_RDWR, 0o600)
	if err != nil {
		return err
	}
	x.journal = f
	data, err := io.ReadAll(f)
	if err != nil {
		return err
	}
	if len(data) < journalHeader || string(data[:4]) != journalMagic ||
		binary.LittleEndian.Uint32(data[4:]) != 1 || binary.LittleEndian.Uint64(data[8:]) != x.gen {
		return fmt.Errorf("%w: %s has a bad header", errIndexCorrupt, path)
	}
	off := journalHeader
	for {
		rest := data[off:]
		if len(rest) < 8 {
			break
		}
		n := int(binary.LittleEndian.Uint32(rest))
		if n > len(rest)-8 || crc32.Checksum(rest[8:8+n], crcTable) != binary.LittleEndian.Uint32(rest[4:]) {
			break
		}
		if err := x.applyFrame(rest[8 : 8+n]); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		off += 8 + n
	}
	if off != len(data) {
		// The torn tail of a frame whose write did not complete: the
		// database was not written for it.
		if err := f.Truncate(int64(off)); err != nil {
			return err
		}
		if err := f.Sync(); err != nil {
			return err
		}
	}
	x.journalSize = int64(off)
	return nil
}

// applyFrame decodes one frame's payload onto the overlay.
func (x *index) applyFrame(p []byte) error {
	bad := fmt.Errorf("%w: malformed journal frame", errIndexCorrupt)
	u32 := func() (uint32, bool) {
		if len(p) < 4 {
			return 0, false
		}
		v := binary.LittleEndian.Uint32(p)
		p = p[4:]
		return v, true
	}
	bytesField := func() ([]byte, bool) {
		n, ok := u32()
		if !ok || int64(n) > int64(len(p)) {
			return nil, false
		}
		b := p[:n]
		p = p[n:]
		return b, true
	}
	last := func() (iprop.Last, bool) {
		a, ok1 := u32()
		b, ok2 := u32()
		c, ok3 := u32()
		return iprop.Last{Sno: a, Time: iprop.Time{Seconds: b, Useconds: c}}, ok1 && ok2 && ok3
	}
	if len(p) < 1 || p[0] != 1 {
		return bad
	}
	p = p[1:]
	head := &frameHead{}
	var ok bool
	if head.prev, ok = last(); !ok {
		return bad
	}
	if head.target, ok = last(); !ok {
		return bad
	}
	nput, ok := u32()
	if !ok {
		return bad
	}
	for i := uint32(0); i < nput; i++ {
		name, ok1 := bytesField()
		line, ok2 := bytesField()
		if !ok1 || !ok2 {
			return bad
		}
		x.setOverlay(string(name), overlayEntry{line: slices.Clone(line)})
		head.names = append(head.names, string(name))
	}
	ndel, ok := u32()
	if !ok {
		return bad
	}
	for i := uint32(0); i < ndel; i++ {
		name, ok := bytesField()
		if !ok {
			return bad
		}
		x.setOverlay(string(name), overlayEntry{deleted: true})
		head.names = append(head.names, string(name))
	}
	if len(p) != 0 {
		return bad
	}
	x.last = head
	return nil
}

// readSparse loads the generation's sparse index if it matches the base.
func (x *index) readSparse() error {
	data, err := os.ReadFile(x.sparsePath(x.gen))
	if err != nil {
		return err
	}
	bad := errIndexCorrupt
	if len(data) < 36 || string(data[:4]) != sparseMagic || crc32.Checksum(data[:len(data)-4], crcTable) != binary.LittleEndian.Uint32(data[len(data)-4:]) {
		return bad
	}
	p := data[4 : len(data)-4]
	size := int64(binary.LittleEndian.Uint64(p))
	end := int64(binary.LittleEndian.Uint64(p[8:]))
	records := int(binary.LittleEndian.Uint64(p[16:]))
	p = p[24:]
	if size != x.size || end > size {
		return bad
	}
	field := func() ([]byte, bool) {
		if len(p) < 4 {
			return nil, false
		}
		n := binary.LittleEndian.Uint32(p)
		if int64(n) > int64(len(p)-4) {
			return nil, false
		}
		b := p[4 : 4+n]
		p = p[4+n:]
		return b, true
	}
	header, ok := field()
	if !ok {
		return bad
	}
	var sparse []sparseEntry
	for len(p) > 0 {
		name, ok := field()
		if !ok || len(p) < 8 {
			return bad
		}
		off := int64(binary.LittleEndian.Uint64(p))
		p = p[8:]
		if off > end || (len(sparse) > 0 && (string(name) <= sparse[len(sparse)-1].name || off <= sparse[len(sparse)-1].off)) {
			return bad
		}
		sparse = append(sparse, sparseEntry{name: string(name), off: off})
	}
	x.header, x.sparse, x.records, x.end = slices.Clone(header), sparse, records, end
	return nil
}

// writeSparse saves the sparse index of the generation (best effort: it
// is rebuilt from the base when missing).
func (x *index) writeSparse() error {
	b := []byte(sparseMagic)
	b = binary.LittleEndian.AppendUint64(b, uint64(x.size))
	b = binary.LittleEndian.AppendUint64(b, uint64(x.end))
	b = binary.LittleEndian.AppendUint64(b, uint64(x.records))
	b = appendBytes(b, x.header)
	for _, e := range x.sparse {
		b = appendBytes(b, []byte(e.name))
		b = binary.LittleEndian.AppendUint64(b, uint64(e.off))
	}
	b = binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, crcTable))
	return writeFileAtomic(x.sparsePath(x.gen), b, 0o600)
}

// install makes the dump at src the base of a new generation, with an
// empty journal. With link, src stays where it is and the base is a hard
// link to it (a copy if the file system refuses); without, src is a file
// in the index's directory and is renamed. A dump whose principals are
// not sorted by name is rewritten sorted.
func (x *index) install(src string, link bool) error {
	gen := x.gen + 1
	dst := x.basePath(gen)
	os.Remove(dst)
	if link {
		if err := os.Link(src, dst); err != nil {
			if err := copyFile(src, dst); err != nil {
				return err
			}
		}
	} else if err := os.Rename(src, dst); err != nil {
		return err
	}
	ok := false
	defer func() {
		if !ok {
			os.Remove(dst)
			os.Remove(x.sparsePath(gen))
			os.Remove(x.journalPath(gen))
		}
	}()
	f, err := os.Open(dst)
	if err != nil {
		return err
	}
	sc, err := scanDump(f, false)
	if err == nil && !sc.sorted {
		sc, err = sortDump(f, dst)
		f.Close()
		if err == nil {
			f, err = os.Open(dst)
		}
	}
	if err != nil {
		if f != nil {
			f.Close()
		}
		return err
	}
	if err := f.Sync(); err != nil && !errors.Is(err, os.ErrPermission) {
		// A hard link to a file we may not write: its data was synced
		// by whoever wrote it (kpropd syncs a received dump).
		f.Close()
		return err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	nx := &index{dir: x.dir, gen: gen, base: f, size: st.Size(), overlay: map[string]overlayEntry{}}
	nx.useScan(sc)
	if err := nx.writeSparse(); err != nil {
		nx.closeFiles()
		return err
	}
	jh := []byte(journalMagic)
	jh = binary.LittleEndian.AppendUint32(jh, 1)
	jh = binary.LittleEndian.AppendUint64(jh, gen)
	if err := writeFileSync(x.journalPath(gen), jh, 0o600); err != nil {
		nx.closeFiles()
		return err
	}
	if nx.journal, err = os.OpenFile(x.journalPath(gen), os.O_RDWR, 0o600); err != nil {
		nx.closeFiles()
		return err
	}
	nx.journalSize = journalHeader
	// The new files' names are on disk before CURRENT names them.
	if err := syncDir(x.dir); err != nil {
		nx.closeFiles()
		return err
	}
	if err := writeFileAtomic(filepath.Join(x.dir, currentFile), []byte(currentMagic+"\n"+strconv.FormatUint(gen, 10)+"\n"), 0o600); err != nil {
		nx.closeFiles()
		return err
	}
	ok = true
	x.closeFiles()
	*x = *nx
	x.removeGenerationsExcept(gen)
	return nil
}

// removeGenerationsExcept deletes the files of every generation but gen
// (all of them for 0), and leftover temporary files.
func (x *index) removeGenerationsExcept(gen uint64) {
	entries, err := os.ReadDir(x.dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		name := e.Name()
		for _, prefix := range []string{"base-", "sparse-", "journal-"} {
			rest, ok := strings.CutPrefix(name, prefix)
			if !ok {
				continue
			}
			g, err := strconv.ParseUint(strings.TrimSuffix(rest, ".dump"), 10, 64)
			if err == nil && g != gen {
				os.Remove(filepath.Join(x.dir, name))
			}
		}
		for _, prefix := range []string{"compact-", "sort-", "rebuild-"} {
			if strings.HasPrefix(name, prefix) {
				os.Remove(filepath.Join(x.dir, name))
			}
		}
	}
}

// invalidate forgets the index: CURRENT goes first, so a crash leaves no
// index rather than a wrong one.
func (x *index) invalidate() error {
	err := os.Remove(filepath.Join(x.dir, currentFile))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err := syncDir(x.dir); err != nil {
		return err
	}
	x.closeFiles()
	x.removeGenerationsExcept(0)
	x.header, x.sparse, x.records, x.end, x.size = nil, nil, 0, 0, 0
	x.overlay, x.overlayBytes, x.last, x.journalSize = map[string]overlayEntry{}, 0, nil, 0
	// Keep counting generations up, so that no new file reuses a name.
	return nil
}

// needsCompaction reports whether the overlay has grown enough that the
// base should absorb it.
func (x *index) needsCompaction() bool {
	n := len(x.overlay)
	return n > compactMin && (n > x.records/8 || x.overlayBytes > compactBytes)
}

// compact writes a new base holding the old base with the overlay applied,
// and installs it.
func (x *index) compact() error {
	tmp, err := os.CreateTemp(x.dir, "compact-*.dump")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	bw := bufio.NewWriterSize(tmp, 1<<20)
	bw.Write(x.header)
	names := make([]string, 0, len(x.overlay))
	for n := range x.overlay {
		names = append(names, n)
	}
	slices.Sort(names)
	rd := bufio.NewReaderSize(io.NewSectionReader(x.base, int64(len(x.header)), x.end-int64(len(x.header))), 1<<20)
	flushOverlay := func(upTo string, inclusive bool) {
		for len(names) > 0 && (names[0] < upTo || (inclusive && names[0] == upTo)) {
			if e := x.overlay[names[0]]; !e.deleted {
				bw.Write(e.line)
			}
			names = names[1:]
		}
	}
	var long []byte
	for {
		line, err := rd.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			long = append(long[:0], line...)
			for err == bufio.ErrBufferFull {
				line, err = rd.ReadSlice('\n')
				long = append(long, line...)
			}
			line = long
		}
		if len(line) == 0 && err == io.EOF {
			break
		}
		if err != nil {
			tmp.Close()
			return fmt.Errorf("replica: compacting the index: %w", err)
		}
		name, ok := lineName(line)
		if !ok {
			continue
		}
		flushOverlay(name, false)
		if len(names) > 0 && names[0] == name {
			flushOverlay(name, true) // replaced or deleted
			continue
		}
		bw.Write(line)
	}
	for _, n := range names {
		if e := x.overlay[n]; !e.deleted {
			bw.Write(e.line)
		}
	}
	if err := bw.Flush(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return x.install(tmp.Name(), false)
}

// sortDump rewrites the dump at path (open as f) with its principal lines
// sorted by name, dropping its other records, and returns the new scan.
func sortDump(f *os.File, path string) (*baseScan, error) {
	sc, err := scanDump(f, true)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(sc.all, func(a, b lineRef) int { return strings.Compare(a.name, b.name) })
	for i := 1; i < len(sc.all); i++ {
		if sc.all[i].name == sc.all[i-1].name {
			return nil, fmt.Errorf("%w: %s lists %s twice", errIndexCorrupt, path, sc.all[i].name)
		}
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "sort-*.dump")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	bw := bufio.NewWriterSize(tmp, 1<<20)
	bw.Write(sc.header)
	out := &baseScan{header: sc.header, sorted: true}
	off := int64(len(sc.header))
	var buf []byte
	for i, r := range sc.all {
		if cap(buf) < int(r.len) {
			buf = make([]byte, r.len)
		}
		buf = buf[:r.len]
		if _, err := f.ReadAt(buf, r.off); err != nil {
			tmp.Close()
			return nil, err
		}
		bw.Write(buf)
		if i%sparseEvery == 0 {
			out.sparse = append(out.sparse, sparseEntry{name: r.name, off: off})
		}
		off += r.len
	}
	out.records, out.end = len(sc.all), off
	if err := bw.Flush(); err != nil {
		tmp.Close()
		return nil, err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return nil, err
	}
	if err := tmp.Close(); err != nil {
		return nil, err
	}
	// path may be a hard link to someone else's file: replace the link,
	// never the shared file's contents.
	if err := os.Rename(tmp.Name(), path); err != nil {
		return nil, err
	}
	return out, nil
}

// writeFileSync writes a file and syncs it.
func writeFileSync(path string, data []byte, perm os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// writeFileAtomic replaces path with data: a synced temporary file renamed
// over it, then the directory synced.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	tmp := path + ".tmp"
	if err := writeFileSync(tmp, data, perm); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return syncDir(filepath.Dir(path))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// copyFile copies src to dst and syncs dst.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return err
}
