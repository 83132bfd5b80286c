package dumpfmt

import (
	"bytes"
	"fmt"
	"strconv"
)

// Format identifies one of the dump formats MIT's kdb5_util writes and
// loads. The formats differ only in the header line, in whether principals
// carry the KADM tl-data (their policy reference), and in the layout of
// policy lines.
type Format int

const (
	// FormatB7 is "kdb5_util load_dump version 4" (kdb5_util dump -b7):
	// principals without KRB5_TL_KADM_DATA, 7-field policies.
	FormatB7 Format = iota + 1
	// FormatR13 is "kdb5_util load_dump version 5" (dump -r13): principals
	// with policy references, 7-field policies.
	FormatR13
	// FormatR18 is "kdb5_util load_dump version 6" (dump -r18): 10-field
	// policies with the lockout parameters.
	FormatR18
	// FormatR111 is "kdb5_util load_dump version 7", MIT's default since
	// 1.11: policies add attributes, lifetimes, allowed key/salt types and
	// tl-data.
	FormatR111
	// FormatIprop is the "iprop SNO SEC USEC" header (kdb5_util dump -i0,
	// or -i with MIT before 1.11): records as in FormatR13.
	FormatIprop
	// FormatIpropX is the "ipropx VER SNO SEC USEC" header (kdb5_util
	// dump -i1): with VER 1 records are as in FormatR111; VER 0 is accepted
	// by MIT and means FormatIprop records.
	FormatIpropX
)

var formatNames = map[Format]string{
	FormatB7:     "4 (b7)",
	FormatR13:    "5 (r13)",
	FormatR18:    "6 (r18)",
	FormatR111:   "7 (r1.11)",
	FormatIprop:  "iprop",
	FormatIpropX: "ipropx",
}

// String names the format as kdbdump prints it.
func (f Format) String() string {
	if s, ok := formatNames[f]; ok {
		return s
	}
	return "Format(" + strconv.Itoa(int(f)) + ")"
}

// Header is the first line of a dump. The iprop fields are meaningful only
// for FormatIprop and FormatIpropX: they record the update-log position
// (serial number and time stamp) the dump corresponds to.
type Header struct {
	Format Format
	// IpropVersion is the version number after "ipropx"; MIT writes 1.
	IpropVersion uint32
	// Serial is the last update-log serial number included in the dump.
	Serial uint32
	// Seconds and Microseconds are the time stamp of that update.
	Seconds      uint32
	Microseconds uint32
}

const (
	headerV4 = "kdb5_util load_dump version 4"
	headerV5 = "kdb5_util load_dump version 5"
	headerV6 = "kdb5_util load_dump version 6"
	headerV7 = "kdb5_util load_dump version 7"
)

// policyForms reports which policy line layouts a dump in this header's
// format carries, and which one MIT writes.
func (h Header) policyForms() (write PolicyForm, accept1, accept2 PolicyForm) {
	switch h.Format {
	case FormatR18:
		return PolicyFormR18, PolicyFormR18, PolicyFormR18
	case FormatR111:
		// MIT's loader takes 1.8-layout lines in version 7 dumps too.
		return PolicyFormR111, PolicyFormR111, PolicyFormR18
	case FormatIpropX:
		if h.IpropVersion == 1 {
			return PolicyFormR111, PolicyFormR111, PolicyFormR18
		}
	}
	return PolicyFormB7, PolicyFormB7, PolicyFormB7
}

// appendHeader appends the header line, with its newline, as MIT writes it.
func (h Header) appendHeader(b []byte) ([]byte, error) {
	switch h.Format {
	case FormatB7:
		b = append(b, headerV4...)
	case FormatR13:
		b = append(b, headerV5...)
	case FormatR18:
		b = append(b, headerV6...)
	case FormatR111:
		b = append(b, headerV7...)
	case FormatIprop, FormatIpropX:
		if h.Format == FormatIprop {
			b = append(b, "iprop"...)
		} else {
			if h.IpropVersion > 1 {
				return b, fmt.Errorf("%w: ipropx version %d", ErrNotRepresentable, h.IpropVersion)
			}
			b = append(b, "ipropx "...)
			b = strconv.AppendUint(b, uint64(h.IpropVersion), 10)
		}
		for _, v := range [...]uint32{h.Serial, h.Seconds, h.Microseconds} {
			b = append(b, ' ')
			b = strconv.AppendUint(b, uint64(v), 10)
		}
	default:
		return b, fmt.Errorf("%w: unknown format %d", ErrNotRepresentable, int(h.Format))
	}
	return append(b, '\n'), nil
}

// parseHeader parses a header line without its newline. It returns the
// field at fault and an error wrapping a sentinel.
func parseHeader(line []byte) (Header, string, error) {
	switch string(line) {
	case headerV4:
		return Header{Format: FormatB7}, "", nil
	case headerV5:
		return Header{Format: FormatR13}, "", nil
	case headerV6:
		return Header{Format: FormatR18}, "", nil
	case headerV7:
		return Header{Format: FormatR111}, "", nil
	}
	var h Header
	var nums []uint32
	fields := splitSpaces(line)
	if len(fields) == 0 {
		return h, "", fmt.Errorf("%w: empty first line", ErrHeader)
	}
	switch string(fields[0]) {
	case "iprop":
		h.Format = FormatIprop
		if len(fields) != 4 {
			return h, "header", fmt.Errorf("%w: iprop header needs 3 numbers, has %d", ErrHeader, len(fields)-1)
		}
	case "ipropx":
		h.Format = FormatIpropX
		if len(fields) != 5 {
			return h, "header", fmt.Errorf("%w: ipropx header needs 4 numbers, has %d", ErrHeader, len(fields)-1)
		}
	default:
		if bytes.HasPrefix(line, []byte("OpenV*Secure")) {
			return h, "", fmt.Errorf("%w: OpenV*Secure (kadmin -ov) format, which MIT no longer loads", ErrHeader)
		}
		return h, "", fmt.Errorf("%w: %q", ErrHeader, truncateForError(line))
	}
	for _, f := range fields[1:] {
		v, err := parseUint(f, 1<<32-1)
		if err != nil {
			return h, "header", fmt.Errorf("%w: %v", ErrHeader, err)
		}
		nums = append(nums, uint32(v))
	}
	if h.Format == FormatIpropX {
		h.IpropVersion = nums[0]
		if h.IpropVersion > 1 {
			return h, "header", fmt.Errorf("%w: unknown ipropx version %d", ErrHeader, h.IpropVersion)
		}
		nums = nums[1:]
	}
	h.Serial, h.Seconds, h.Microseconds = nums[0], nums[1], nums[2]
	return h, "", nil
}

// splitSpaces splits on single spaces, rejecting empty fields by returning
// them (so "a  b" has an empty field that fails number parsing).
func splitSpaces(line []byte) [][]byte {
	var out [][]byte
	start := 0
	for i := 0; i <= len(line); i++ {
		if i == len(line) || line[i] == ' ' {
			out = append(out, line[start:i])
			start = i + 1
		}
	}
	return out
}

func truncateForError(b []byte) string {
	const max = 64
	if len(b) > max {
		return string(b[:max]) + "..."
	}
	return string(b)
}
