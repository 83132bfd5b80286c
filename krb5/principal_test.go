package krb5

import "testing"

func TestPrincipalRoundTrip(t *testing.T) {
	tests := []struct {
		in    string
		comps []string
		realm string
	}{
		{"host/kdc1.example.com@EXAMPLE.COM", []string{"host", "kdc1.example.com"}, "EXAMPLE.COM"},
		{`we\/ird\@name@R`, []string{"we/ird@name"}, "R"},
		{`tab\tnl\nbs\\@R`, []string{"tab\tnl\nbs\\"}, "R"},
		{"K/M@R", []string{"K", "M"}, "R"},
		{"nobody", []string{"nobody"}, "DEF"},
	}
	for _, tt := range tests {
		p, err := ParsePrincipal(tt.in, "DEF")
		if err != nil {
			t.Fatalf("ParsePrincipal(%q): %v", tt.in, err)
		}
		if p.Realm != tt.realm || len(p.Name.NameString) != len(tt.comps) {
			t.Fatalf("ParsePrincipal(%q) = %#v", tt.in, p)
		}
		for i := range tt.comps {
			if p.Name.NameString[i] != tt.comps[i] {
				t.Errorf("ParsePrincipal(%q) component %d = %q", tt.in, i, p.Name.NameString[i])
			}
		}
		want := tt.in
		if tt.in == "nobody" {
			want = "nobody@DEF"
		}
		if got := p.String(); got != want {
			t.Errorf("String() = %q, want %q", got, want)
		}
	}
	for _, bad := range []string{`trailing\`, "a@R@S", "a@R/x"} {
		if _, err := ParsePrincipal(bad, "R"); err == nil {
			t.Errorf("ParsePrincipal(%q) accepted", bad)
		}
	}
}

func TestParseFullPrincipal(t *testing.T) {
	for in, want := range map[string]string{`a/b@R`: `a/b@R`, `a@`: `a@`, `a\@b@R`: `a\@b@R`} {
		p, err := ParseFullPrincipal(in)
		if err != nil || p.String() != want {
			t.Errorf("ParseFullPrincipal(%q) = %q, %v; want %q", in, p.String(), err, want)
		}
	}
	for _, bad := range []string{`a`, `a\@b`, `a@R@S`, `a\`} {
		if _, err := ParseFullPrincipal(bad); err == nil {
			t.Errorf("ParseFullPrincipal(%q) accepted", bad)
		}
	}
}
