package oncrpc

import (
	"bytes"
	"testing"
)

func FuzzReadRecord(f *testing.F) {
	f.Add(appendRecord(nil, []byte("hello, world"), 5))
	f.Add([]byte{0x7f, 0xff, 0xff, 0xff, 1})
	f.Add([]byte{0, 0, 0, 0, 0x80, 0, 0, 1, 7})
	f.Fuzz(func(t *testing.T, in []byte) {
		rec, err := readRecord(bytes.NewReader(in), 1<<16)
		if err != nil {
			return
		}
		if len(rec) > 1<<16 {
			t.Fatalf("record of %d bytes passed a %d-byte limit", len(rec), 1<<16)
		}
		// Written back as one fragment, it reads the same.
		again, err := readRecord(bytes.NewReader(appendRecord(nil, rec, 0)), 1<<17)
		if err != nil || !bytes.Equal(again, rec) {
			t.Fatalf("re-read %v", err)
		}
	})
}

func FuzzParseReply(f *testing.F) {
	f.Add(acceptedReply(7, OpaqueAuth{Flavor: 6, Body: []byte("abcd")}, Success, []byte{1, 2, 3, 4}))
	f.Add(acceptedReply(7, OpaqueAuth{}, ProgMismatch, []byte{0, 0, 0, 1, 0, 0, 0, 1}))
	f.Add(deniedReply(7, rejectAuthError, 13))
	f.Add(deniedReply(7, rejectRPCMismatch, 2, 2))
	f.Fuzz(func(t *testing.T, rec []byte) {
		if _, _, ok := replyXID(rec); !ok {
			return
		}
		r, err := parseReply(rec)
		if err != nil {
			return
		}
		if r.err == nil && len(r.verf.Body) > MaxAuthBytes {
			t.Fatalf("verifier of %d bytes", len(r.verf.Body))
		}
	})
}
