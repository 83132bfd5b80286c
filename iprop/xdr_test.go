package iprop

import (
	"bytes"
	"errors"
	"reflect"
	"testing"

	"github.com/gokprop/gokprop/oncrpc/xdr"
)

// sampleUpdate has every arm of the attribute union.
func sampleUpdate() *Update {
	princ := Principal{Realm: "EXAMPLE.TEST", Components: []Component{{Data: "host"}, {Magic: -1760647422, Data: "kdc.example.test"}}, NameType: 3}
	return &Update{
		Principal: "host/kdc.example.test@EXAMPLE.TEST",
		Sno:       42,
		Time:      Time{1796115206, 797456},
		Attrs: []Attr{
			{Type: AttrFlags, Uint32: 0x80},
			{Type: AttrMaxLife, Uint32: 36000},
			{Type: AttrMaxRenewLife, Uint32: 604800},
			{Type: AttrExp, Uint32: 0},
			{Type: AttrPwExp, Uint32: 1},
			{Type: AttrLastSuccess, Uint32: 2},
			{Type: AttrLastFailed, Uint32: 3},
			{Type: AttrFailAuthCount, Uint32: 4},
			{Type: AttrPrinc, Principal: princ},
			{Type: AttrKeyData, Keys: []Key{
				{Version: 1, Kvno: 2, Types: []int32{18}, Contents: [][]byte{{0x20, 0, 1, 2, 3}}},
				{Version: 2, Kvno: 2, Types: []int32{17, 3}, Contents: [][]byte{{0x10, 0, 9}, []byte("salt")}},
			}},
			{Type: AttrTLData, TLData: []TLData{{Type: 8, Data: []byte{1, 0}}, {Type: -2, Data: nil}}},
			{Type: AttrLen, Len: 38},
			{Type: AttrModPrinc, Principal: Principal{Realm: "EXAMPLE.TEST", Components: []Component{{Data: "kadmin"}, {Data: "admin"}}, NameType: 1}},
			{Type: AttrModTime, Uint32: 1796115206},
			{Type: AttrModWhere, String: "somewhere"},
			{Type: AttrPwLastChange, Uint32: 1796115200},
			{Type: AttrPwPolicy, String: "default"},
			{Type: AttrPwPolicySwitch, Bool: true},
			{Type: AttrPwHistKvno, Uint32: 7},
			{Type: AttrPwHist, PwHist: [][]Key{{{Version: 1, Kvno: 1, Types: []int32{18}, Contents: [][]byte{{1}}}}, nil}},
			{Type: 20, Extension: []byte("future")},
			{Type: -5, Extension: nil},
		},
		Commit:     true,
		KDCsSeenBy: []string{"kdc2"},
		Futures:    []byte{1, 2, 3},
	}
}

func TestUpdateRoundTrip(t *testing.T) {
	u := sampleUpdate()
	b := u.AppendXDR(nil)
	got, err := DecodeUpdate(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, u) {
		t.Fatalf("decoded\n%+v\nwant\n%+v", got, u)
	}
	if again := got.AppendXDR(nil); !bytes.Equal(again, b) {
		t.Fatal("re-encoding differs")
	}
	// A trailing byte, a short input and a bad bool are refused.
	if _, err := DecodeUpdate(append(b, 0, 0, 0, 0)); !errors.Is(err, xdr.ErrTrailing) {
		t.Errorf("trailing: %v", err)
	}
	if _, err := DecodeUpdate(b[:len(b)-1]); !errors.Is(err, xdr.ErrShort) {
		t.Errorf("short: %v", err)
	}
}

func TestUpdateEncoding(t *testing.T) {
	// A deletion as MIT's primary logs it, checked by hand against
	// iprop.x: name, sno, time, no attributes, deleted, not committed, no
	// KDCs, no futures.
	u := &Update{Principal: "gina@R", Sno: 9, Time: Time{1, 2}, Deleted: true}
	want := []byte{
		0, 0, 0, 6, 'g', 'i', 'n', 'a', '@', 'R', 0, 0,
		0, 0, 0, 9,
		0, 0, 0, 1, 0, 0, 0, 2,
		0, 0, 0, 0,
		0, 0, 0, 1,
		0, 0, 0, 0,
		0, 0, 0, 0,
		0, 0, 0, 0,
	}
	if got := u.AppendXDR(nil); !bytes.Equal(got, want) {
		t.Fatalf("got\n% x\nwant\n% x", got, want)
	}
	if len(want) != minUpdateSize+8 {
		t.Errorf("minimum update size %d does not match an update with a 6-byte name", minUpdateSize)
	}
	// AT_LEN is a sign-extended short; AT_PW_POLICY_SWITCH a bool.
	a := Attr{Type: AttrLen, Len: -2}
	if got := a.AppendXDR(nil); !bytes.Equal(got, []byte{0, 0, 0, 11, 0xff, 0xff, 0xff, 0xfe}) {
		t.Errorf("AT_LEN % x", got)
	}
}

func TestResultsRoundTrip(t *testing.T) {
	ir := &IncrResult{Last: Last{Sno: 43, Time: Time{5, 6}}, Updates: []Update{*sampleUpdate(), {Principal: "a@B", Sno: 43}}, Status: UpdateOK}
	b := ir.AppendXDR(nil)
	got, err := DecodeIncrResult(b)
	if err != nil || !reflect.DeepEqual(got, ir) {
		t.Fatalf("%v\n%+v", err, got)
	}
	fr := &FullResyncResult{Status: UpdatePermDenied}
	got2, err := DecodeFullResyncResult(fr.AppendXDR(nil))
	if err != nil || *got2 != *fr {
		t.Fatalf("%v %+v", err, got2)
	}
	l := Last{Sno: 1, Time: Time{2, 3}}
	got3, err := DecodeLast(l.AppendXDR(nil))
	if err != nil || got3 != l {
		t.Fatalf("%v %+v", err, got3)
	}
}

func TestDecodeBounds(t *testing.T) {
	// An update count the input cannot hold is refused before allocation.
	b := Last{}.AppendXDR(nil)
	b = xdr.AppendUint32(b, 1000)
	b = xdr.AppendInt32(b, 0)
	if _, err := DecodeIncrResult(b); !errors.Is(err, xdr.ErrShort) {
		t.Errorf("1000 updates in 4 bytes: %v", err)
	}
	b = Last{}.AppendXDR(nil)
	b = xdr.AppendUint32(b, MaxUpdates+1)
	if _, err := DecodeIncrResult(b); !errors.Is(err, xdr.ErrTooLong) {
		t.Errorf("count above MaxUpdates: %v", err)
	}
	// A principal name longer than MaxString.
	u := &Update{Principal: string(make([]byte, MaxString+1))}
	if _, err := DecodeUpdate(u.AppendXDR(nil)); !errors.Is(err, xdr.ErrTooLong) {
		t.Errorf("long name: %v", err)
	}
	// A tl-data type that is not a short.
	a := Attr{Type: AttrTLData, TLData: []TLData{{Type: 1}}}
	enc := (&Update{Attrs: []Attr{a}}).AppendXDR(nil)
	i := bytes.Index(enc, []byte{0, 0, 0, 10, 0, 0, 0, 1, 0, 0, 0, 1})
	enc[i+8] = 1 // type 0x01000001
	if _, err := DecodeUpdate(enc); !errors.Is(err, xdr.ErrRange) {
		t.Errorf("32-bit tl type: %v", err)
	}
}

func TestNames(t *testing.T) {
	for s, want := range map[Status]string{
		UpdateOK: "UPDATE_OK", UpdateError: "UPDATE_ERROR", UpdateFullResyncNeeded: "UPDATE_FULL_RESYNC_NEEDED",
		UpdateBusy: "UPDATE_BUSY", UpdateNil: "UPDATE_NIL", UpdatePermDenied: "UPDATE_PERM_DENIED", 6: "UPDATE_STATUS(6)", -1: "UPDATE_STATUS(-1)",
	} {
		if s.String() != want {
			t.Errorf("%d: %q, want %q", int32(s), s.String(), want)
		}
	}
	if AttrPwHist.String() != "AT_PW_HIST" || AttrFlags.String() != "AT_ATTRFLAGS" || AttrType(20).String() != "AT_20" {
		t.Error("attribute names")
	}
}
