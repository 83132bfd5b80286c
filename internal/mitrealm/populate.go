package mitrealm

import (
	"fmt"
	"strings"
	"testing"
)

// Population describes what Populate created.
type Population struct {
	// Principals is the number of principals Populate added: Generated
	// plus the hand-made ones.
	Principals int
	// Generated is the number of bulk principals (the n of Populate).
	Generated int
	// Policies are the names of the policies Populate added.
	Policies []string
	// User and Password are a principal with a known password and the
	// realm's default keys, for kinit.
	User, Password string
}

// Policy names Populate creates. None is called "default", which kadmin
// would attach to every new principal.
const (
	PolicyLockout = "lockout" // -maxfailure 5, 10 minute window, 1 hour lockout
	PolicyStrict  = "strict"  // minimum length 12, 3 classes, history 4, life limits
	PolicyAESOnly = "aesonly" // allowed key/salts: AES-SHA1 only
	PolicyPlain   = "plain"   // no limits
)

// PopulatedUser and PopulatedPassword are the known-password principal
// Populate creates (realm omitted).
const (
	PopulatedUser     = "alice"
	PopulatedPassword = "Alice-Known-Passw0rd"
)

// Populate fills h's database through one kadmin.local process: n
// generated principals with random keys (names gen00001..., with every
// tenth a two-component service name) and, spread over them by index,
// policies, flags, expirations, life limits, AES-SHA2 keys, no-key
// principals, string attributes and extra kvnos (cpw -randkey -keepold);
// plus four policies and a dozen hand-made principals: a known-password
// user, a user under the strict policy, des3/rc4-only, mixed salt types,
// Camellia keys, names needing escapes, non-ASCII names, a cross-realm
// krbtgt, WELLKNOWN/ANONYMOUS and heavily flagged ones. The same n gives
// the same principals, policies and attributes (keys are random).
func Populate(t testing.TB, h *Host, n int) Population {
	t.Helper()
	cmds := []string{
		`addpol -maxfailure 5 -failurecountinterval "10 minutes" -lockoutduration "1 hour" ` + PolicyLockout,
		`addpol -minlength 12 -minclasses 3 -history 4 -maxlife "90 days" -minlife "1 hour" ` + PolicyStrict,
		`addpol -allowedkeysalts ` + AES256SHA1 + `:normal,` + AES128SHA1 + `:normal ` + PolicyAESOnly,
		`addpol ` + PolicyPlain,
	}
	special := []string{
		`addprinc -pw ` + PopulatedPassword + ` -clearpolicy +requires_preauth ` + PopulatedUser,
		`addprinc -pw Bob-Strict-Passw0rd-42 -policy ` + PolicyStrict + ` bob`,
		`addprinc -pw Legacy-Passw0rd -clearpolicy -e ` + DES3 + `:normal,` + RC4 + `:normal legacy`,
		`addprinc -pw Salty-Passw0rd -clearpolicy -e ` + AES256SHA1 + `:norealm,` + AES128SHA1 + `:onlyrealm,` + AES256SHA384 + `:special salty`,
		`addprinc -randkey -clearpolicy -e camellia256-cts-cmac:normal,camellia128-cts-cmac:normal camellia`,
		`addprinc -randkey -clearpolicy esc\/aped/inst`,
		`addprinc -randkey -clearpolicy "space name"`,
		`addprinc -randkey -clearpolicy ünïcødé`,
		`addprinc -randkey -clearpolicy 用户/管理`,
		`addprinc -randkey -clearpolicy krbtgt/OTHER.TEST`,
		`addprinc -randkey -clearpolicy WELLKNOWN/ANONYMOUS`,
		`addprinc -randkey -clearpolicy +ok_as_delegate -allow_forwardable +requires_preauth -maxlife "2 hours" -maxrenewlife "7 days" -pwexpire "2031-06-01 12:00:00 UTC" -expire "2032-01-01 00:00:00 UTC" flagged`,
		`addprinc -nokey -policy ` + PolicyPlain + ` nokey/admin`,
		`setstr ` + PopulatedUser + ` session_enctypes aes256-cts`,
		`setstr flagged note "a string attribute with spaces"`,
		`cpw -randkey -keepold legacy`,
	}
	cmds = append(cmds, special...)
	nSpecial := 0
	for _, c := range special {
		if strings.HasPrefix(c, "addprinc ") {
			nSpecial++
		}
	}
	var later []string
	for i := 1; i <= n; i++ {
		name := fmt.Sprintf("gen%05d", i)
		if i%10 == 3 {
			name = fmt.Sprintf("svc%05d/node%d.example.test", i, i%17)
		}
		var opts []string
		switch {
		case i%333 == 0:
			opts = append(opts, "-nokey")
		case i%250 == 0:
			opts = append(opts, "-randkey", "-e", AES256SHA384+":normal,"+AES128SHA256+":normal")
		default:
			opts = append(opts, "-randkey")
		}
		switch {
		case i%7 == 0:
			opts = append(opts, "-policy", PolicyLockout)
		case i%11 == 0 && i%250 != 0: // aesonly forbids the AES-SHA2 keys
			opts = append(opts, "-policy", PolicyAESOnly)
		default:
			opts = append(opts, "-clearpolicy")
		}
		if i%50 == 0 {
			opts = append(opts, "-expire", `"2031-01-01 00:00:00 UTC"`)
		}
		if i%97 == 0 {
			opts = append(opts, "-maxlife", `"4 hours"`, "-maxrenewlife", `"2 days"`)
		}
		if i%13 == 0 {
			opts = append(opts, "+requires_preauth")
		}
		if i%17 == 0 {
			opts = append(opts, "-allow_tix")
		}
		cmds = append(cmds, "addprinc "+strings.Join(opts, " ")+" "+name)
		if i%500 == 0 {
			later = append(later, fmt.Sprintf("setstr %s session_enctypes aes256-cts,aes128-cts", name))
		}
		if i%1000 == 1 && i%333 != 0 {
			later = append(later,
				"cpw -randkey -keepold "+name,
				"cpw -randkey -keepold "+name)
		}
	}
	h.Kadmin(t, append(cmds, later...)...)
	return Population{
		Principals: n + nSpecial,
		Generated:  n,
		Policies:   []string{PolicyLockout, PolicyStrict, PolicyAESOnly, PolicyPlain},
		User:       PopulatedUser,
		Password:   PopulatedPassword,
	}
}
