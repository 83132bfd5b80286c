package iprop

import (
	"bytes"
	"testing"
)

func FuzzDecodeUpdate(f *testing.F) {
	f.Add(sampleUpdate().AppendXDR(nil))
	f.Add((&Update{Principal: "x@Y", Deleted: true}).AppendXDR(nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		u, err := DecodeUpdate(b)
		if err != nil {
			return
		}
		if again := u.AppendXDR(nil); !bytes.Equal(again, b) {
			t.Fatalf("re-encoded\n% x\ninput\n% x", again, b)
		}
	})
}

func FuzzDecodeIncrResult(f *testing.F) {
	f.Add((&IncrResult{Updates: []Update{*sampleUpdate()}}).AppendXDR(nil))
	f.Add((&IncrResult{Status: UpdateNil}).AppendXDR(nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := DecodeIncrResult(b)
		if err != nil {
			return
		}
		if again := r.AppendXDR(nil); !bytes.Equal(again, b) {
			t.Fatal("re-encoding differs")
		}
	})
}

func FuzzDecodeFullResyncResult(f *testing.F) {
	f.Add((&FullResyncResult{Status: UpdateOK}).AppendXDR(nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := DecodeFullResyncResult(b)
		if err != nil {
			return
		}
		if again := r.AppendXDR(nil); !bytes.Equal(again, b) {
			t.Fatal("re-encoding differs")
		}
	})
}

func FuzzDecodeLast(f *testing.F) {
	f.Add(Last{Sno: 1, Time: Time{2, 3}}.AppendXDR(nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := DecodeLast(b)
		if err != nil {
			return
		}
		if again := l.AppendXDR(nil); !bytes.Equal(again, b) {
			t.Fatal("re-encoding differs")
		}
	})
}
