package getopt

import (
	"reflect"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		args     []string
		opts     []Option
		operands []string
	}{
		{[]string{"-r", "EXAMPLE.COM", "-f", "/x", "kdc2"},
			[]Option{{"r", "EXAMPLE.COM"}, {"f", "/x"}}, []string{"kdc2"}},
		{[]string{"-rEXAMPLE.COM", "kdc2", "-P754"},
			[]Option{{"r", "EXAMPLE.COM"}, {"P", "754"}}, []string{"kdc2"}},
		{[]string{"-dd", "-ds", "/kt", "h"},
			[]Option{{"d", ""}, {"d", ""}, {"d", ""}, {"s", "/kt"}}, []string{"h"}},
		{[]string{"--pid-file=/run/k.pid", "-D"},
			[]Option{{"pid-file", "/run/k.pid"}, {"D", ""}}, nil},
		{[]string{"--pid-file", "/run/k.pid"},
			[]Option{{"pid-file", "/run/k.pid"}}, nil},
		{[]string{"-d", "--", "-r"},
			[]Option{{"d", ""}}, []string{"-r"}},
		{[]string{"-"}, nil, []string{"-"}},
	}
	for _, tt := range tests {
		opts, ops, err := Parse(tt.args, "r:f:dP:s:D", []string{"pid-file="})
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.args, err)
			continue
		}
		if !reflect.DeepEqual(opts, tt.opts) || !reflect.DeepEqual(ops, tt.operands) {
			t.Errorf("Parse(%q) = %v %q, want %v %q", tt.args, opts, ops, tt.opts, tt.operands)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"-z"}, "invalid option -- 'z'"},
		{[]string{"-r"}, "option requires an argument -- 'r'"},
		{[]string{"--nope"}, "unrecognized option '--nope'"},
		{[]string{"--pid-file"}, "option '--pid-file' requires an argument"},
		{[]string{"--pid-file"}, "option '--pid-file' requires an argument"},
	} {
		_, _, err := Parse(tc.args, "r:d", []string{"pid-file="})
		if err == nil || err.Error() != tc.msg {
			t.Errorf("Parse(%q) error %v, want %q", tc.args, err, tc.msg)
		}
	}
}
