package dumpfmt_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/gokprop/gokprop/dumpfmt"
)

const validDump = "kdb5_util load_dump version 7\n" +
	"princ\t38\t12\t1\t1\t0\tK/M@TEST.ORG\t0\t0\t0\t0\t0\t0\t0\t0\t8\t2\t0100\t1\t1\t18\t4\tdeadbeef\t-1;\n" +
	"princ\t38\t24\t0\t0\t0\tkrbtgt/TEST.ORG@TEST.ORG\t0\t0\t0\t0\t0\t0\t0\t0\t-1;\n" +
	"policy\tp\t0\t0\t1\t1\t1\t0\t3\t60\t120\t0\t0\t0\t-\t0\n"

func TestValidDumpFixture(t *testing.T) {
	s, err := dumpfmt.Validate(strings.NewReader(validDump), dumpfmt.ValidateOptions{})
	if err != nil || s.Principals != 2 || s.Policies != 1 || s.Realm != "TEST.ORG" || s.Lines != 4 {
		t.Fatalf("%+v %v", s, err)
	}
	out, _, _ := rewrite(t, []byte(validDump), false)
	if string(out) != validDump {
		t.Fatalf("rewrite %q", out)
	}
}

const (
	kmLine  = "princ\t38\t12\t1\t1\t0\tK/M@TEST.ORG\t0\t0\t0\t0\t0\t0\t0\t0\t8\t2\t0100\t1\t1\t18\t4\tdeadbeef\t-1;\n"
	tgsLine = "princ\t38\t24\t0\t0\t0\tkrbtgt/TEST.ORG@TEST.ORG\t0\t0\t0\t0\t0\t0\t0\t0\t-1;\n"
)

// errorCase is a damaged dump and where Validate must report it.
type errorCase struct {
	name     string
	old, new string // replacement applied to validDump (first occurrence)
	input    string // used instead when set
	want     error
	line     int
	field    string
}

// dump returns the damaged dump.
func (tc errorCase) dump(t testing.TB) string {
	t.Helper()
	if tc.old == "" {
		return tc.input
	}
	if !strings.Contains(validDump, tc.old) {
		t.Fatalf("fixture lacks %q", tc.old)
	}
	return strings.Replace(validDump, tc.old, tc.new, 1)
}

var errorCases = []errorCase{
	{name: "tl count", old: "\t12\t1\t1\t", new: "\t12\t2\t1\t", want: dumpfmt.ErrCount, line: 2, field: "n_tl_data"},
	{name: "key count", old: "\t12\t1\t1\t", new: "\t12\t1\t2\t", want: dumpfmt.ErrCount, line: 2, field: "n_tl_data"},
	{name: "tl length", old: "8\t2\t0100", new: "8\t3\t0100", want: dumpfmt.ErrLength, line: 2, field: "tl-data[0].contents"},
	{name: "tl length zero with hex", old: "8\t2\t0100", new: "8\t0\t0100", want: dumpfmt.ErrLength, line: 2, field: "tl-data[0].contents"},
	{name: "tl length without hex", old: "8\t2\t0100", new: "8\t2\t-1", want: dumpfmt.ErrLength, line: 2, field: "tl-data[0].contents"},
	{name: "key length", old: "18\t4\tdeadbeef", new: "18\t5\tdeadbeef", want: dumpfmt.ErrLength, line: 2, field: "key-data[0].contents[0]"},
	{name: "upper-case hex", old: "deadbeef", new: "DEADBEEF", want: dumpfmt.ErrHex, line: 2, field: "key-data[0].contents[0]"},
	{name: "bad hex", old: "deadbeef", new: "deadbeeg", want: dumpfmt.ErrHex, line: 2, field: "key-data[0].contents[0]"},
	{name: "name length", old: "\t12\t1\t1\t0\tK/M", new: "\t13\t1\t1\t0\tK/M", want: dumpfmt.ErrName, line: 2, field: "name"},
	{name: "name without realm", old: "\t12\t1\t1\t0\tK/M@TEST.ORG", new: "\t3\t1\t1\t0\tK/M", want: dumpfmt.ErrName, line: 2, field: "name"},
	{name: "name with two realms", old: "\t12\t1\t1\t0\tK/M@TEST.ORG", new: "\t14\t1\t1\t0\tK/M@TEST.ORG@X", want: dumpfmt.ErrName, line: 2, field: "name"},
	{name: "name trailing backslash", old: "\t12\t1\t1\t0\tK/M@TEST.ORG", new: "\t13\t1\t1\t0\tK/M@TEST.ORG\\", want: dumpfmt.ErrName, line: 2, field: "name"},
	{name: "truncated", input: strings.TrimSuffix(validDump, "\n"), want: dumpfmt.ErrTruncated, line: 4},
	{name: "truncated mid-field", input: validDump[:len(validDump)-30], want: dumpfmt.ErrTruncated, line: 4},
	{name: "empty", input: "", want: dumpfmt.ErrTruncated},
	{name: "header only, no newline", input: "kdb5_util load_dump version 7", want: dumpfmt.ErrTruncated, line: 1},
	{name: "trailing garbage", old: "-1;\n", new: "-1;x\n", want: dumpfmt.ErrTrailing, line: 2, field: "e_data"},
	{name: "CRLF", old: "-1;\n", new: "-1;\r\n", want: dumpfmt.ErrTrailing, line: 2, field: "e_data"},
	{name: "no semicolon", old: "-1;\n", new: "-1\n", want: dumpfmt.ErrSyntax, line: 2, field: "e_data"},
	{name: "garbage line at end", input: validDump + "garbage\n", want: dumpfmt.ErrSyntax, line: 5, field: "record-type"},
	{name: "blank line", input: validDump + "\n", want: dumpfmt.ErrSyntax, line: 5, field: "record-type"},
	{name: "policy trailing", old: "-\t0\n", new: "-\t0\tx\n", want: dumpfmt.ErrCount, line: 4, field: "n_tl_data"},
	{name: "policy tl count", old: "-\t0\n", new: "-\t1\n", want: dumpfmt.ErrCount, line: 4, field: "n_tl_data"},
	{name: "policy short", old: "\t3\t60\t120\t0\t0\t0\t-\t0\n", new: "\t3\t60\n", want: dumpfmt.ErrCount, line: 4, field: "policy"},
	{name: "policy bad number", old: "\t3\t60\t120", new: "\t3\t6x\t120", want: dumpfmt.ErrSyntax, line: 4, field: "pw_failcnt_interval"},
	{name: "policy in version 6 has 1.11 fields", old: "version 7", new: "version 6", want: dumpfmt.ErrCount, line: 4, field: "policy"},
	{name: "leading zero", old: "princ\t38", new: "princ\t038", want: dumpfmt.ErrSyntax, line: 2, field: "len"},
	{name: "plus sign", old: "\t0\t0\t0\t0\t0\t0\t0\t0\t8", new: "\t+0\t0\t0\t0\t0\t0\t0\t0\t8", want: dumpfmt.ErrSyntax, line: 2, field: "attributes"},
	{name: "expiration negative", old: "\t0\t0\t0\t0\t0\t0\t0\t0\t8", new: "\t0\t0\t0\t-1\t0\t0\t0\t0\t8", want: dumpfmt.ErrSyntax, line: 2, field: "expiration"},
	{name: "attributes overflow", old: "\t0\t0\t0\t0\t0\t0\t0\t0\t8", new: "\t2147483648\t0\t0\t0\t0\t0\t0\t0\t8", want: dumpfmt.ErrRange, line: 2, field: "attributes"},
	{name: "key version 3", old: "0100\t1\t1\t18", new: "0100\t3\t1\t18", want: dumpfmt.ErrRange, line: 2, field: "key-data[0].version"},
	{name: "key version 0", old: "\t12\t1\t1\t0\tK/M@TEST.ORG\t0\t0\t0\t0\t0\t0\t0\t0\t8\t2\t0100\t1\t1\t18\t4\tdeadbeef\t",
		new:  "\t12\t1\t2\t0\tK/M@TEST.ORG\t0\t0\t0\t0\t0\t0\t0\t0\t8\t2\t0100\t0\t1\t2\t1\t18\t4\tdeadbeef\t4\t0\t-1\t",
		want: dumpfmt.ErrRange, line: 2, field: "key-data[0].version"},
	{name: "kvno overflow", old: "0100\t1\t1\t18", new: "0100\t1\t65536\t18", want: dumpfmt.ErrRange, line: 2, field: "key-data[0].kvno"},
	{name: "tl type overflow", old: "\t8\t2\t0100", new: "\t32768\t2\t0100", want: dumpfmt.ErrRange, line: 2, field: "tl-data[0].type"},
	{name: "missing K/M", old: kmLine, new: "", want: dumpfmt.ErrNoMaster},
	{name: "missing krbtgt", old: tgsLine, new: "", want: dumpfmt.ErrNoMaster},
	{name: "duplicate principal", input: validDump + tgsLine, want: dumpfmt.ErrDuplicate, line: 5, field: "name"},
	{name: "duplicate principal spelled differently", input: validDump +
		"princ\t38\t25\t0\t0\t0\t\\krbtgt/TEST.ORG@TEST.ORG\t0\t0\t0\t0\t0\t0\t0\t0\t-1;\n", want: dumpfmt.ErrDuplicate, line: 5, field: "name"},
	{name: "duplicate principal, more lines after", input: validDump + tgsLine + "princ\t38\t5\t0\t0\t0\ta@B.C\t0\t0\t0\t0\t0\t0\t0\t0\t-1;\n" + validDump[30:],
		want: dumpfmt.ErrDuplicate, line: 5, field: "name"},
	{name: "duplicate principal, then garbage", input: validDump + tgsLine + "garbage\n", want: dumpfmt.ErrDuplicate, line: 5, field: "name"},
	{name: "e_data length", old: "\t38\t24\t0\t0\t0\tkrbtgt/TEST.ORG@TEST.ORG\t0\t0\t0\t0\t0\t0\t0\t0\t-1;", new: "\t38\t24\t0\t0\t2\tkrbtgt/TEST.ORG@TEST.ORG\t0\t0\t0\t0\t0\t0\t0\t0\tabc;",
		want: dumpfmt.ErrLength, line: 3, field: "e_data"},
	{name: "duplicate policy", input: validDump + "policy\tp\t0\t0\t1\t1\t1\t0\t3\t60\t120\n", want: dumpfmt.ErrDuplicate, line: 5, field: "name"},
	{name: "no header", input: kmLine + tgsLine, want: dumpfmt.ErrHeader, line: 1},
	{name: "OpenV*Secure header", input: "OpenV*Secure V1.0\t1\n", want: dumpfmt.ErrHeader, line: 1},
	{name: "version 8", old: "version 7", new: "version 8", want: dumpfmt.ErrHeader, line: 1},
	{name: "header trailing space", old: "version 7", new: "version 7 ", want: dumpfmt.ErrHeader, line: 1},
	{name: "ipropx 2", old: "kdb5_util load_dump version 7", new: "ipropx 2 1 2 3", want: dumpfmt.ErrHeader, line: 1, field: "header"},
	{name: "iprop short", old: "kdb5_util load_dump version 7", new: "iprop 1 2", want: dumpfmt.ErrHeader, line: 1, field: "header"},
	{name: "iprop overflow", old: "kdb5_util load_dump version 7", new: "iprop 4294967296 1 2", want: dumpfmt.ErrHeader, line: 1, field: "header"},
}

func TestErrors(t *testing.T) {
	for _, tc := range errorCases {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.dump(t)
			_, err := dumpfmt.Validate(strings.NewReader(in), dumpfmt.ValidateOptions{FileName: "x.dump"})
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			var pe *dumpfmt.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("%T is not a *ParseError", err)
			}
			if pe.Line != tc.line || pe.Field != tc.field || pe.File != "x.dump" {
				t.Errorf("position %s:%d field %q, want line %d field %q (%v)", pe.File, pe.Line, pe.Field, tc.line, tc.field, err)
			}
			// The record path must agree with the validation path on
			// per-record errors.
			if !errors.Is(tc.want, dumpfmt.ErrNoMaster) && !errors.Is(tc.want, dumpfmt.ErrDuplicate) {
				r := dumpfmt.NewReader(strings.NewReader(in))
				var rerr error
				for rerr == nil {
					_, rerr = r.Next()
				}
				if !errors.Is(rerr, tc.want) {
					t.Errorf("Reader: %v, want %v", rerr, tc.want)
				}
			}
		})
	}
}

func TestErrorText(t *testing.T) {
	in := strings.Replace(validDump, "8\t2\t0100", "8\t3\t0100", 1)
	_, err := dumpfmt.Validate(strings.NewReader(in), dumpfmt.ValidateOptions{FileName: "x.dump"})
	want := "x.dump:2: field tl-data[0].contents: length disagrees with contents: length 3 but 4 hex digits"
	if err == nil || err.Error() != want {
		t.Errorf("got  %v\nwant %s", err, want)
	}
	_, err = dumpfmt.Validate(strings.NewReader(strings.Replace(validDump, "K/M", "K/X", 1)), dumpfmt.ValidateOptions{})
	if want := "-: missing required principal: no K/M master key principal"; err == nil || err.Error() != want {
		t.Errorf("got  %v\nwant %s", err, want)
	}
}

func TestPartial(t *testing.T) {
	in := "kdb5_util load_dump version 7\n" + "princ\t38\t5\t0\t0\t0\ta@B.C\t0\t0\t0\t0\t0\t0\t0\t0\t-1;\n"
	if _, err := dumpfmt.Validate(strings.NewReader(in), dumpfmt.ValidateOptions{}); !errors.Is(err, dumpfmt.ErrNoMaster) {
		t.Fatalf("full: %v", err)
	}
	if _, err := dumpfmt.Validate(strings.NewReader(in), dumpfmt.ValidateOptions{Partial: true}); err != nil {
		t.Fatalf("partial: %v", err)
	}
}

// TestTruncation cuts a dump at every byte. A cut inside a line must fail
// as truncated. A cut at a line boundary leaves a well-formed smaller dump
// that the format cannot tell from a complete one (no trailer, no count);
// it must still fail whenever the cut removes K/M or the realm's krbtgt.
func TestTruncation(t *testing.T) {
	data := []byte(strings.Replace(validDump, "princ\t38\t24", "princ\t38\t24", 1))
	data = append(data, []byte("policy\tq\t0\t0\t1\t1\t1\t0\t3\t60\t120\t0\t0\t0\taes256-cts:normal\t1\t1\t3\t616263\n")...)
	tgsEnd := bytes.Index(data, []byte("-1;\npolicy")) + 4
	for n := 0; n < len(data); n++ {
		_, err := dumpfmt.Validate(bytes.NewReader(data[:n]), dumpfmt.ValidateOptions{})
		atBoundary := n > 0 && data[n-1] == '\n'
		switch {
		case !atBoundary:
			if !errors.Is(err, dumpfmt.ErrTruncated) {
				t.Fatalf("cut at %d: %v, want ErrTruncated", n, err)
			}
		case n < tgsEnd:
			if !errors.Is(err, dumpfmt.ErrNoMaster) {
				t.Fatalf("cut at %d (line boundary before krbtgt): %v, want ErrNoMaster", n, err)
			}
		default:
			if err != nil {
				t.Fatalf("cut at %d (line boundary, complete records): %v", n, err)
			}
		}
	}
}
