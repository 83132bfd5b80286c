package ulog

import (
	"encoding/binary"
	"fmt"

	"github.com/gokprop/gokprop/iprop"
)

// The file layout of MIT's update log (kdb_log.h). Numbers are in the
// host's byte order and laid out as the C structs are on Linux: a 40-byte
// header, then one block per entry slot.
const (
	HeaderMagic     uint32 = 0x06662323 // KDB_ULOG_HDR_MAGIC
	EntryMagic      uint32 = 0x06661212 // KDB_ULOG_MAGIC
	LogVersion      uint16 = 1          // KDB_VERSION, the header's db_version_num
	HeaderSize             = 40         // sizeof(kdb_hlog_t)
	EntryHeaderSize        = 28         // sizeof(kdb_ent_header_t); the update starts at byte 24
	BlockSize              = 2048       // ULOG_BLOCK: the block size of a new log and the resize unit
	DefaultSlots           = 1000       // DEF_ULOGENTRIES: iprop_ulogsize's default
	MaxLogLen              = 0x10000000 // MAXLOGLEN: the largest log a resize may make
)

// entryDataOffset is where an entry's update begins inside its block
// (offsetof(kdb_ent_header_t, entry_data)).
const entryDataOffset = 24

// byteOrder is the host's, which MIT's mmap'ed structs use.
var byteOrder = binary.NativeEndian

// State is the header's kdb_state.
type State uint16

// The states MIT defines.
const (
	Stable   State = 1 // KDB_STABLE
	Unstable State = 2 // KDB_UNSTABLE: a writer died in the middle of an update
	Corrupt  State = 3 // KDB_CORRUPT (never set by MIT 1.20)
)

// String returns the state as kproplog prints it.
func (s State) String() string {
	switch s {
	case Stable:
		return "Stable"
	case Unstable:
		return "Unstable"
	case Corrupt:
		return "Corrupt"
	}
	return fmt.Sprintf("Unknown state: %d", uint16(s))
}

// Header is the log's header (kdb_hlog_t).
type Header struct {
	Magic     uint32 // HeaderMagic
	Version   uint16 // LogVersion
	Num       uint32 // entries in the log, at most the log's capacity
	FirstTime iprop.Time
	LastTime  iprop.Time
	FirstSno  uint32
	LastSno   uint32
	State     State
	Block     uint16 // bytes per entry slot, a multiple of BlockSize
}

// Last returns the header's last serial number and time: the position a
// replica reports to its primary.
func (h Header) Last() iprop.Last { return iprop.Last{Sno: h.LastSno, Time: h.LastTime} }

// rawHeader is the header's bytes. Fields are changed in place, so bytes
// MIT never writes (the padding after db_version_num) keep their value.
type rawHeader [HeaderSize]byte

func (r *rawHeader) decode() Header {
	b := r[:]
	return Header{
		Magic:     byteOrder.Uint32(b[0:]),
		Version:   byteOrder.Uint16(b[4:]),
		Num:       byteOrder.Uint32(b[8:]),
		FirstTime: iprop.Time{Seconds: byteOrder.Uint32(b[12:]), Useconds: byteOrder.Uint32(b[16:])},
		LastTime:  iprop.Time{Seconds: byteOrder.Uint32(b[20:]), Useconds: byteOrder.Uint32(b[24:])},
		FirstSno:  byteOrder.Uint32(b[28:]),
		LastSno:   byteOrder.Uint32(b[32:]),
		State:     State(byteOrder.Uint16(b[36:])),
		Block:     byteOrder.Uint16(b[38:]),
	}
}

func (r *rawHeader) magic() uint32    { return byteOrder.Uint32(r[0:]) }
func (r *rawHeader) num() uint32      { return byteOrder.Uint32(r[8:]) }
func (r *rawHeader) firstSno() uint32 { return byteOrder.Uint32(r[28:]) }
func (r *rawHeader) lastSno() uint32  { return byteOrder.Uint32(r[32:]) }
func (r *rawHeader) block() uint16    { return byteOrder.Uint16(r[38:]) }
func (r *rawHeader) firstTime() iprop.Time {
	return iprop.Time{Seconds: byteOrder.Uint32(r[12:]), Useconds: byteOrder.Uint32(r[16:])}
}
func (r *rawHeader) lastTime() iprop.Time {
	return iprop.Time{Seconds: byteOrder.Uint32(r[20:]), Useconds: byteOrder.Uint32(r[24:])}
}

func (r *rawHeader) setNum(v uint32)      { byteOrder.PutUint32(r[8:], v) }
func (r *rawHeader) setFirstSno(v uint32) { byteOrder.PutUint32(r[28:], v) }
func (r *rawHeader) setLastSno(v uint32)  { byteOrder.PutUint32(r[32:], v) }
func (r *rawHeader) setState(s State)     { byteOrder.PutUint16(r[36:], uint16(s)) }
func (r *rawHeader) setFirstTime(t iprop.Time) {
	byteOrder.PutUint32(r[12:], t.Seconds)
	byteOrder.PutUint32(r[16:], t.Useconds)
}
func (r *rawHeader) setLastTime(t iprop.Time) {
	byteOrder.PutUint32(r[20:], t.Seconds)
	byteOrder.PutUint32(r[24:], t.Useconds)
}

// init clears the header as MIT's reset and resize do: zeros, then the
// magic, the version and the block size.
func (r *rawHeader) init(block uint16) {
	*r = rawHeader{}
	byteOrder.PutUint32(r[0:], HeaderMagic)
	byteOrder.PutUint16(r[4:], LogVersion)
	byteOrder.PutUint16(r[38:], block)
}

// Entry is one slot of the log: its header (kdb_ent_header_t) and the
// XDR-encoded update it holds. A dummy entry, which remembers the serial
// number and time of a reset or of a loaded dump, has Size 0 and no data.
type Entry struct {
	Magic  uint32 // EntryMagic
	Sno    uint32
	Time   iprop.Time
	Commit bool   // the entry was written completely
	Size   uint32 // bytes of Data
	Data   []byte
}

// Dummy reports whether e holds no update.
func (e *Entry) Dummy() bool { return e.Size == 0 }

// Update decodes the entry's update.
func (e *Entry) Update() (*iprop.Update, error) {
	if e.Dummy() {
		return nil, fmt.Errorf("ulog: entry %d is a dummy entry", e.Sno)
	}
	return iprop.DecodeUpdate(e.Data)
}

func decodeEntryHeader(b []byte) Entry {
	return Entry{
		Magic:  byteOrder.Uint32(b[0:]),
		Sno:    byteOrder.Uint32(b[4:]),
		Time:   iprop.Time{Seconds: byteOrder.Uint32(b[8:]), Useconds: byteOrder.Uint32(b[12:])},
		Commit: byteOrder.Uint32(b[16:]) != 0,
		Size:   byteOrder.Uint32(b[20:]),
	}
}

// putEntryHeader writes an entry header into b (at least EntryHeaderSize
// bytes): magic, serial number, time, commit flag and size; the 4 bytes
// of entry_data that sizeof counts are left as they are.
func putEntryHeader(b []byte, sno uint32, t iprop.Time, commit bool, size uint32) {
	byteOrder.PutUint32(b[0:], EntryMagic)
	byteOrder.PutUint32(b[4:], sno)
	byteOrder.PutUint32(b[8:], t.Seconds)
	byteOrder.PutUint32(b[12:], t.Useconds)
	var c uint32
	if commit {
		c = 1
	}
	byteOrder.PutUint32(b[16:], c)
	byteOrder.PutUint32(b[20:], size)
}
