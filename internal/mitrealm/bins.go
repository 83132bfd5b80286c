package mitrealm

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// extraBinDirs are searched after PATH: Debian installs the KDC programs in
// /usr/sbin, which a non-root PATH often lacks.
const extraBinDirs = "/usr/sbin:/usr/bin:/sbin"

// debianPackage names the Debian package that ships each MIT program.
func debianPackage(bin string) string {
	switch bin {
	case "krb5kdc":
		return "krb5-kdc"
	case "kdb5_util", "kadmin.local", "kprop":
		return "krb5-admin-server"
	case "kpropd":
		return "krb5-kpropd"
	case "kinit", "klist", "kvno", "kdestroy":
		return "krb5-user"
	}
	return "krb5-user"
}

// LookPath finds an MIT program by name in PATH, then in /usr/sbin, /usr/bin
// and /sbin. A name containing a slash is returned unchanged if it is
// executable.
func LookPath(name string) (string, error) {
	if strings.Contains(name, "/") {
		return exec.LookPath(name)
	}
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, dir := range filepath.SplitList(extraBinDirs) {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("mitrealm: %s not found in PATH or %s", name, extraBinDirs)
}

// Require finds the named MIT programs and returns their paths by name. If
// any is missing the test is skipped, or fails when the environment variable
// CI is non-empty.
func Require(t testing.TB, bins ...string) map[string]string {
	t.Helper()
	paths := make(map[string]string, len(bins))
	var missing []string
	pkgs := map[string]bool{}
	for _, b := range bins {
		p, err := LookPath(b)
		if err != nil {
			missing = append(missing, b)
			pkgs[debianPackage(b)] = true
			continue
		}
		paths[b] = p
	}
	if len(missing) == 0 {
		return paths
	}
	var pkgList []string
	for p := range pkgs {
		pkgList = append(pkgList, p)
	}
	sort.Strings(pkgList)
	msg := fmt.Sprintf("MIT krb5 programs not found: %s (Debian packages: %s)",
		strings.Join(missing, ", "), strings.Join(pkgList, " "))
	if os.Getenv("CI") != "" {
		t.Fatalf("%s; CI is set, so a missing MIT program is a failure", msg)
	}
	t.Skip(msg)
	return nil
}

// bin returns the path of one MIT program, with Require's skip/fail rule.
func bin(t testing.TB, name string) string {
	t.Helper()
	return Require(t, name)[name]
}
