package ulog_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gokprop/gokprop/iprop"
	"github.com/gokprop/gokprop/ulog"
)

// kproplog renders what MIT's kproplog prints for the log l at path (as
// kproplog.c formats it, with TZ=UTC) from this package's view of it:
// verbose 0, 1 or 2 for no -v, -v and -vv. Comparing it with kproplog's
// own output checks the reader field by field against MIT's.
func kproplog(t *testing.T, path string, l *ulog.Log, verbose int) string {
	t.Helper()
	h, err := l.Header()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("\nKerberos update log (%s)\n", path)
	p("Update log dump :\n")
	p("\tLog version # : %d\n", h.Version)
	p("\tLog state : %s\n", h.State)
	p("\tEntry block size : %d\n", h.Block)
	p("\tNumber of entries : %d\n", h.Num)
	if h.LastSno == 0 {
		p("\tLast serial # : None\n")
	} else {
		if h.FirstSno == 0 {
			p("\tFirst serial # : None\n")
		} else {
			p("\tFirst serial # : %d\n", h.FirstSno)
		}
		p("\tLast serial # : %d\n", h.LastSno)
	}
	if h.LastTime.Seconds == 0 {
		p("\tLast time stamp : None\n")
	} else {
		if h.FirstTime.Seconds == 0 {
			p("\tFirst time stamp : None\n")
		} else {
			p("\tFirst time stamp : %s", ctime(h.FirstTime.Seconds))
		}
		p("\tLast time stamp : %s\n", ctime(h.LastTime.Seconds))
	}
	if h.Num != 0 {
		es, err := l.Entries()
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			p("---\nUpdate Entry\n\tUpdate serial # : %d\n", e.Sno)
			if e.Dummy() {
				p("\tDummy entry\n")
				continue
			}
			u, err := e.Update()
			if err != nil {
				t.Fatalf("entry %d: %v", e.Sno, err)
			}
			op := "Add"
			if u.Deleted {
				op = "Delete"
			}
			p("\tUpdate operation : %s\n", op)
			p("\tUpdate principal : %s\n", cstr(u.Principal))
			p("\tUpdate size : %d\n", e.Size)
			p("\tUpdate committed : %s\n", map[bool]string{true: "True", false: "False"}[e.Commit])
			if e.Time.Seconds == 0 {
				p("\tUpdate time stamp : None\n")
			} else {
				p("\tUpdate time stamp : %s", ctime(e.Time.Seconds))
			}
			p("\tAttributes changed : %d\n", len(u.Attrs))
			if verbose > 0 {
				for _, a := range u.Attrs {
					printAttr(&b, &a, verbose > 1)
				}
			}
		}
	}
	p("\n")
	return b.String()
}

func ctime(s uint32) string {
	return time.Unix(int64(s), 0).UTC().Format("Mon Jan _2 15:04:05 2006") + "\n"
}

// cstr cuts s at a NUL, as printf's %s does.
func cstr(s string) string {
	if i := strings.IndexByte(s, 0); i >= 0 {
		return s[:i]
	}
	return s
}

var attrLabels = map[iprop.AttrType]string{
	iprop.AttrFlags: "Attribute flags", iprop.AttrMaxLife: "Maximum ticket life",
	iprop.AttrMaxRenewLife: "Maximum renewable life", iprop.AttrExp: "Principal expiration",
	iprop.AttrPwExp: "Password expiration", iprop.AttrLastSuccess: "Last successful auth",
	iprop.AttrLastFailed: "Last failed auth", iprop.AttrFailAuthCount: "Failed passwd attempt",
	iprop.AttrPrinc: "Principal", iprop.AttrKeyData: "Key data", iprop.AttrTLData: "TL data",
	iprop.AttrLen: "Length", iprop.AttrPwLastChange: "Password last changed",
	iprop.AttrModPrinc: "Modifying principal", iprop.AttrModTime: "Modification time",
	iprop.AttrModWhere: "Modified where", iprop.AttrPwPolicy: "Password policy",
	iprop.AttrPwPolicySwitch: "Password policy switch", iprop.AttrPwHistKvno: "Password history KVNO",
	iprop.AttrPwHist: "Password history",
}

// flagNames are kadm5's names of the KRB5_KDB_* flag bits
// (src/lib/kadm5/str_conv.c); empty ones print in hex.
var flagNames = []string{
	"DISALLOW_POSTDATED", "DISALLOW_FORWARDABLE", "DISALLOW_TGT_BASED", "DISALLOW_RENEWABLE",
	"DISALLOW_PROXIABLE", "DISALLOW_DUP_SKEY", "DISALLOW_ALL_TIX", "REQUIRES_PRE_AUTH",
	"REQUIRES_HW_AUTH", "REQUIRES_PWCHANGE", "", "", "DISALLOW_SVR", "PWCHANGE_SERVICE",
	"SUPPORT_DESMD5", "NEW_PRINC", "", "", "", "", "OK_AS_DELEGATE", "OK_TO_AUTH_AS_DELEGATE",
	"NO_AUTH_DATA_REQUIRED", "LOCKDOWN_KEYS",
}

func printAttr(b *strings.Builder, a *iprop.Attr, vv bool) {
	label, ok := attrLabels[a.Type]
	if !ok {
		return
	}
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	p("\t\t%s\n", label)
	if !vv {
		return
	}
	tm := func(s uint32) {
		if s == 0 {
			p("\t\t\tNone\n")
		} else {
			p("\t\t\t%s", ctime(s))
		}
	}
	str := func(tag, s string) { p("\t\t\t%s(%d): %s\n", tag, len(s), cstr(s)) }
	princ := func(pr *iprop.Principal) {
		str("realm", pr.Realm)
		for _, c := range pr.Components {
			p("\t\t\tmagic: 0x%x\n", uint32(c.Magic))
			str("princ", c.Data)
		}
	}
	switch a.Type {
	case iprop.AttrFlags:
		for i := 0; i < 32; i++ {
			if a.Uint32&(1<<i) == 0 {
				continue
			}
			if i < len(flagNames) && flagNames[i] != "" {
				p("\t\t\t%s\n", flagNames[i])
			} else {
				p("\t\t\t0x%08x\n", uint32(1)<<i)
			}
		}
	case iprop.AttrMaxLife, iprop.AttrMaxRenewLife:
		p("\t\t\t%s\n", deltat(int32(a.Uint32)))
	case iprop.AttrExp, iprop.AttrPwExp, iprop.AttrLastSuccess, iprop.AttrLastFailed, iprop.AttrPwLastChange, iprop.AttrModTime:
		tm(a.Uint32)
	case iprop.AttrFailAuthCount, iprop.AttrPwHistKvno:
		p("\t\t\t%d\n", int32(a.Uint32))
	case iprop.AttrPrinc, iprop.AttrModPrinc:
		princ(&a.Principal)
	case iprop.AttrKeyData:
		for _, k := range a.Keys {
			p("\t\t\tver: %d\n\t\t\tkvno: %d\n", k.Version, k.Kvno)
			for _, e := range k.Types {
				p("\t\t\tenc type: 0x%x\n", uint32(e))
			}
			for _, c := range k.Contents {
				p("\t\t\tkey(%d): 0x%x\n", len(c), c)
			}
		}
	case iprop.AttrTLData:
		p("\t\t\titems: %d\n", len(a.TLData))
		for _, tl := range a.TLData {
			p("\t\t\ttype: 0x%x\n\t\t\tvalue(%d): 0x%x\n", uint32(int32(tl.Type)), len(tl.Data), tl.Data)
		}
	case iprop.AttrLen:
		p("\t\t\t%d\n", a.Len)
	case iprop.AttrModWhere:
		str("where", a.String)
	case iprop.AttrPwPolicy:
		str("policy", a.String)
	case iprop.AttrPwPolicySwitch:
		v := 0
		if a.Bool {
			v = 1
		}
		p("\t\t\t%d\n", v)
	case iprop.AttrPwHist:
		p("\t\t\tPW history elided\n")
	}
}

// deltat formats a duration as krb5_deltat_to_string does.
func deltat(d int32) string {
	days := d / 86400
	r := d % 86400
	h, m, s := r/3600, r%3600/60, r%60
	unit := "day"
	if days > 1 {
		unit = "days"
	}
	switch {
	case days == 0:
		return fmt.Sprintf("%d:%02d:%02d", h, m, s)
	case h != 0 || m != 0 || s != 0:
		return fmt.Sprintf("%d %s %02d:%02d:%02d", days, unit, h, m, s)
	}
	return fmt.Sprintf("%d %s", days, unit)
}
