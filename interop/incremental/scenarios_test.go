package incremental

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gokprop/gokprop/dumpfmt"
	"github.com/gokprop/gokprop/internal/iproptest"
	"github.com/gokprop/gokprop/internal/mitrealm"
	"github.com/gokprop/gokprop/krb5"
	"github.com/gokprop/gokprop/ulog"
)

// results collects the outcome of every scenario for every session
// enctype, for the table TestScenarios logs (and writes to the file named
// by GOKPROP_IPROP_TABLE).
var results = struct {
	sync.Mutex
	rows  []string
	cells map[string]map[string]string
}{cells: map[string]map[string]string{}}

func record(scenario, enctype, outcome string) {
	results.Lock()
	defer results.Unlock()
	if results.cells[scenario] == nil {
		results.cells[scenario] = map[string]string{}
		results.rows = append(results.rows, scenario)
	}
	results.cells[scenario][enctype] = outcome
}

func resultTable(enctypes []string) string {
	results.Lock()
	defer results.Unlock()
	var b strings.Builder
	b.WriteString("| scenario | " + strings.Join(enctypes, " | ") + " |\n|---|" + strings.Repeat("---|", len(enctypes)) + "\n")
	for _, r := range results.rows {
		b.WriteString("| " + r + " |")
		for _, e := range enctypes {
			c := results.cells[r][e]
			if c == "" {
				c = "not run"
			}
			b.WriteString(" " + c + " |")
		}
		b.WriteString("\n")
	}
	return b.String()
}

// A cell runs the scenarios in order on one realm, for one session
// enctype: MIT kpropd on replica "mit", ours on its copy "ours", each
// scenario's changes made on the primary, then each kpropd's cycle, then
// the two replicas compared.
type cell struct {
	t        *testing.T
	enctype  string
	p        *primary
	mit, go_ *replica
}

// check compares the replicas after a scenario and records the outcome.
func (c *cell) check(scenario string) {
	t := c.t
	t.Helper()
	dump, ul := sameState(t, scenario, c.mit, c.go_)
	out := "dump " + map[bool]string{true: "identical", false: "DIFFERENT"}[dump] + ", ulog " + ul
	record(scenario, c.enctype, out)
	t.Logf("%s: %s", scenario, out)
}

// cycle runs both kpropds for one -t cycle and requires each to print
// lines in order (and none of the refused ones).
func (c *cell) cycle(lines []string, refused ...string) (mitOut, goOut string) {
	t := c.t
	t.Helper()
	mitOut = c.mit.runOnce(t, c.p)
	goOut = c.go_.runOnce(t, c.p)
	for _, r := range []struct{ who, out string }{{"MIT kpropd", mitOut}, {"our kpropd", goOut}} {
		requireLines(t, r.who, r.out, lines...)
		refuseLines(t, r.who, r.out, refused...)
	}
	return mitOut, goOut
}

var (
	incremental = []string{"Calling iprop_get_updates_1 (sno=", "Got incremental updates (sno=", "Incremental updates: "}
	fullResync  = []string{"Calling iprop_get_updates_1 (sno=", "Full resync needed", "Full resync request granted",
		"Full propagation transfer finished.", "Database load process for full propagation completed.",
		"Calling iprop_get_updates_1 (sno=", "KDC is synchronized with primary."}
	noFull = []string{"Full resync", "failed", "denied", "error"}
)

// bigNote is a string attribute that makes its update larger than a
// 2048-byte update log block.
var bigNote = strings.Repeat("0123456789abcdef", 160)

// TestScenarios runs every scenario of the test plan for every session
// enctype, and logs the table of outcomes.
func TestScenarios(t *testing.T) {
	encs := sessionEnctypes()
	for _, e := range encs {
		t.Run(e, func(t *testing.T) {
			t.Parallel()
			runCell(t, e)
		})
	}
	t.Cleanup(func() {
		table := resultTable(encs)
		t.Logf("MIT kpropd and ours on copies of one replica:\n%s", table)
		if path := os.Getenv("GOKPROP_IPROP_TABLE"); path != "" {
			os.WriteFile(path, []byte(table), 0o644)
		}
	})
}

func runCell(t *testing.T, enctype string) {
	p := newPrimary(t, 12, mustLook(t, "kprop"))
	p.h.Kadmin(t,
		`addpol -maxlife "90 days" pol1`,
		`addprinc -pw Alice-Passw0rd -clearpolicy +requires_preauth alice`,
		`addprinc -pw Bob-Passw0rd -clearpolicy bob`,
		`addprinc -randkey -clearpolicy carol`,
		`addprinc -randkey -clearpolicy doomed`,
		`addprinc -randkey -clearpolicy oldname`,
		`addprinc -randkey -clearpolicy "space name"`,
		`addprinc -randkey -clearpolicy esc\/aped/inst`,
	)
	initial := filepath.Join(p.h.Dir, "initial.dump")
	p.h.Dump(t, initial)
	c := &cell{t: t, enctype: enctype, p: p,
		mit: p.newReplica(t, "mit", mustLook(t, "kpropd"), enctype, 8),
		go_: p.newReplica(t, "ours", ours.kpropd, enctype, 8)}
	c.mit.loadFrom(t, initial)
	twins(t, c.mit, c.go_)
	R := "@" + p.h.Realm

	// First start: a replica without an iprop position gets a full
	// resync, then is up to date.
	c.cycle(fullResync)
	c.resyncVerifies("first start")
	c.check("first start (full resync)")

	c.p.h.Kadmin(t,
		`addprinc -pw Dave-Passw0rd -policy pol1 dave`,
		`addprinc -randkey -clearpolicy -e aes128-cts-hmac-sha1-96:normal,aes256-cts-hmac-sha1-96:special host/www.example.com`,
		`addprinc -nokey -clearpolicy nokey/admin`,
		`addprinc -randkey -clearpolicy say"hi"`)
	c.cycle(append(incremental[:2:2], "Incremental updates: 4 updates"), noFull...)
	c.check("adds")

	c.p.h.Kadmin(t,
		`modprinc -maxlife "2 hours" -maxrenewlife "3 days" alice`,
		`modprinc +requires_hwauth -expire "2030-01-01 00:00:00 UTC" carol`,
		`modprinc -pwexpire "2031-06-01 12:00:00 UTC" bob`,
		`modprinc -policy pol1 carol`,
		`modprinc -clearpolicy dave`,
		`modprinc -allow_tix esc\/aped/inst`)
	c.cycle(incremental, noFull...)
	c.check("modifications")

	c.p.h.Kadmin(t,
		`cpw -randkey bob`,
		`cpw -randkey -keepold bob`,
		`cpw -pw New-Alice-Passw0rd alice`,
		`purgekeys -keepkvno 3 bob`,
		`modprinc -kvno 9 carol`,
		fmt.Sprintf("ktadd -k %s carol", mitrealm.Quote("FILE:"+filepath.Join(p.h.Dir, "carol.keytab"))))
	c.cycle(incremental, noFull...)
	c.check("key changes")

	c.p.h.Kadmin(t,
		`setstr bob session_enctypes aes256-cts`,
		`setstr carol note hello`,
		`setstr "space name" note there`,
		`delstr bob session_enctypes`)
	c.cycle(incremental, noFull...)
	c.check("string attributes")

	c.p.h.Kadmin(t, `renprinc -force oldname newname`)
	c.cycle(incremental, noFull...)
	c.requireAbsent("oldname"+R, "renames")
	c.check("renames")

	c.p.h.Kadmin(t, `delprinc -force doomed`, `addprinc -randkey -clearpolicy gina`, `delprinc -force gina`, `delprinc -force "space name"`)
	c.cycle(incremental, noFull...)
	c.requireAbsent("doomed"+R, "deletes")
	c.check("deletes")

	// The replicas' own lockout state (their KDCs' failure counts) is
	// never taken from the primary.
	for _, r := range []*replica{c.mit, c.go_} {
		setLockout(t, r, "alice"+R, 1796000000, 1796000100, 2)
	}
	c.p.h.Kadmin(t, `modprinc -maxlife "3 hours" alice`, `modprinc -unlock alice`)
	c.cycle(incremental, noFull...)
	for _, r := range []*replica{c.mit, c.go_} {
		_, princs := iproptest.ReadDump(t, r.dump(t))
		if a := princs["alice"+R]; a == nil || a.FailAuthCount != 2 || a.LastFailed != 1796000100 || a.LastSuccess != 1796000000 {
			t.Fatalf("%s lost alice's lockout state: %+v", r.name, a)
		}
	}
	c.check("lockout kept")

	c.p.h.Kadmin(t, `addpol -minlength 6 pol2`)
	c.cycle(fullResync)
	c.resyncVerifies("policy change")
	c.check("policy change (full resync)")

	for _, r := range []*replica{c.mit, c.go_} {
		r.h.Run(t, "kproplog", "-R")
	}
	c.cycle(fullResync)
	c.check("kproplog -R (full resync)")

	// Ten updates, more than the replicas' eight slots: their logs wrap.
	var many []string
	for i := 0; i < 10; i++ {
		many = append(many, fmt.Sprintf("addprinc -randkey -clearpolicy wrap%d", i))
	}
	c.p.h.Kadmin(t, many...)
	c.cycle(append(incremental[:2:2], "Incremental updates: 10 updates"), noFull...)
	c.check("replica log wrap")

	// Thirteen, more than the primary's twelve: the replicas' position
	// has left the primary's log.
	many = many[:0]
	for i := 0; i < 13; i++ {
		many = append(many, fmt.Sprintf("modprinc -maxlife %dm wrap%d", 10+i, i%10))
	}
	c.p.h.Kadmin(t, many...)
	c.cycle(fullResync)
	c.check("primary log wrap (full resync)")

	// An update larger than a block: the primary's log grows its blocks,
	// which in 1.20 reinitializes it (a full resync); the next one grows
	// the replicas' blocks.
	c.p.h.Kadmin(t, `setstr carol note `+bigNote)
	c.cycle(fullResync)
	c.check("block resize on the primary (full resync)")
	c.p.h.Kadmin(t, `setstr bob note `+bigNote)
	c.cycle(incremental, noFull...)
	for _, r := range []*replica{c.mit, c.go_} {
		if out := r.h.Kproplog(t, "-h"); !strings.Contains(out, "Entry block size : 4096") {
			t.Fatalf("%s's log did not grow its blocks:\n%s", r.name, out)
		}
	}
	c.check("block resize on the replica")

	mitOut, goOut := c.cycle([]string{"Calling iprop_get_updates_1 (sno=", "KDC is synchronized with primary."}, append(noFull, "Got incremental")...)
	_, _ = mitOut, goOut
	c.check("-t with nothing to do")

	c.daemonScenarios()
	c.denied()
	c.wrongKey()
	c.cascade()
	c.kinit()

	// Every kiprop ticket, MIT kpropd's and ours, had the cell's session
	// enctype.
	e, _ := krb5.ParseEnctype(enctype)
	n := 0
	for _, is := range p.h.KDCIssues(t) {
		if strings.HasPrefix(is.Server, "kiprop/") {
			n++
			if is.Session != int32(e) {
				t.Errorf("kiprop ticket with session enctype %d, want %d (%s)", is.Session, e, is)
			}
		}
	}
	if n < 10 {
		t.Errorf("only %d kiprop tickets issued", n)
	}
}

// resyncVerifies requires the full resync kadmind last sent (an iprop
// dump, "ipropx 1 SNO SEC USEC") to pass the verification our kpropd runs
// on every received dump by default, with nothing out of MIT's order,
// so that the check ran in full (the cycle that loaded it ran our kpropd
// with verification on).
func (c *cell) resyncVerifies(scenario string) {
	t := c.t
	t.Helper()
	f, err := os.Open(c.p.dumpFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sum, err := dumpfmt.Validate(f, dumpfmt.ValidateOptions{Duplicates: dumpfmt.DuplicatesSorted})
	if err != nil {
		t.Fatalf("%s: kadmind's full resync does not verify: %v", scenario, err)
	}
	if sum.Header.Format != dumpfmt.FormatIpropX || sum.Header.IpropVersion != 1 || sum.Unsorted != 0 || sum.Realm != c.p.h.Realm {
		t.Fatalf("%s: kadmind's full resync: %+v", scenario, sum)
	}
}

// requireAbsent fails if either replica still has name.
func (c *cell) requireAbsent(name, scenario string) {
	c.t.Helper()
	for _, r := range []*replica{c.mit, c.go_} {
		if _, princs := iproptest.ReadDump(c.t, r.dump(c.t)); princs[name] != nil {
			c.t.Fatalf("%s: %s still on %s", scenario, name, r.name)
		}
	}
}

// setLockout gives name on r the lockout state of a KDC that saw failed
// logins, without touching r's update log.
func setLockout(t *testing.T, r *replica, name string, lastSuccess, lastFailed uint32, count int32) {
	t.Helper()
	_, princs := iproptest.ReadDump(t, r.dump(t))
	p := princs[name]
	if p == nil {
		t.Fatalf("no %s on %s", name, r.name)
	}
	p.LastSuccess, p.LastFailed, p.FailAuthCount = lastSuccess, lastFailed, count
	var buf bytes.Buffer
	w := dumpfmt.NewWriter(&buf, dumpfmt.Header{Format: dumpfmt.FormatR111})
	if err := w.Write(p); err != nil {
		t.Fatal(err)
	}
	w.Flush()
	path := filepath.Join(r.h.Dir, "lockout.dump")
	os.WriteFile(path, buf.Bytes(), 0o600)
	cmd := r.h.Command("kdb5_util", "-r", r.h.Realm, "load", "-update", path)
	cmd.Env = r.h.NoIpropEnv(t)
	if _, _, err := mitrealm.Exec(cmd, ""); err != nil {
		t.Fatal(err)
	}
}

// setPoll rewrites r's kdc.conf with another poll interval.
func (r *replica) setPoll(t *testing.T, p *primary, poll string) {
	t.Helper()
	r.h.EnableIprop(t, mitrealm.IpropConfig{Port: p.ip.Port, LogFile: r.ulog, ULogSize: r.slots,
		Relations: []string{"iprop_replica_poll = " + poll, "iprop_resync_timeout = 4"}})
}

// daemonScenarios run both kpropds as daemons with a long poll interval:
// SIGUSR1 makes them poll at once, and they survive a kadmind restart.
func (c *cell) daemonScenarios() {
	t := c.t
	var ds []*mitrealm.Daemon
	metricsAddr := "127.0.0.1:" + strconv.Itoa(mitrealm.ReservePort(t))
	for _, r := range []*replica{c.mit, c.go_} {
		r.setPoll(t, c.p, "600")
		var extra []string
		if r == c.go_ {
			extra = []string{"--metrics-listen", metricsAddr}
		}
		d := r.start(t, c.p, mitrealm.ReservePort(t), extra...)
		d.WaitFor(t, "Waiting for 600 seconds before checking for updates again", time.Minute)
		ds = append(ds, d)
	}
	// Wait for a count of a line to grow past what it was.
	waitMore := func(d *mitrealm.Daemon, line string, before int) {
		t.Helper()
		deadline := time.Now().Add(time.Minute)
		for strings.Count(d.Output(), line) <= before {
			if time.Now().After(deadline) || d.Exited() {
				t.Fatalf("%s: no new %q:\n%s", d.Name, line, d.Output())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	kick := func(line string) {
		t.Helper()
		var before []int
		for _, d := range ds {
			before = append(before, strings.Count(d.Output(), line))
		}
		for _, d := range ds {
			if err := syscall.Kill(d.Pid(), syscall.SIGUSR1); err != nil {
				t.Fatal(err)
			}
		}
		for i, d := range ds {
			waitMore(d, line, before[i])
			// and back to sleep
			deadline := time.Now().Add(time.Minute)
			for {
				out := d.Output()
				if strings.Contains(out[strings.LastIndex(out, line):], "Waiting for 600 seconds") {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%s did not go back to sleep:\n%s", d.Name, out)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
	}
	c.p.h.Kadmin(t, `modprinc -maxlife "4 hours" alice`)
	kick("Incremental updates: 1 updates")
	c.check("SIGUSR1")
	c.ipropMetrics(metricsAddr)

	c.p.stopKadmind(t)
	c.p.startKadmind(t)
	c.p.h.Kadmin(t, `modprinc -maxlife "5 hours" alice`)
	kick("Incremental updates: 1 updates")
	for _, d := range ds {
		requireLines(t, d.Name, d.Output(), "iprop_get_updates call failed", "Initializing kadm5 as client", "kadm5 initialization succeeded")
	}
	c.check("kadmind restart")
	for _, d := range ds {
		d.Stop()
	}
	for _, r := range []*replica{c.mit, c.go_} {
		r.setPoll(t, c.p, "1")
	}
}

// ipropMetrics checks what our kpropd's --metrics-listen says of its
// position: the serial number of its update log's last entry, no lag
// (it has just applied everything the primary holds).
func (c *cell) ipropMetrics(addr string) {
	t := c.t
	t.Helper()
	l, err := ulog.Open(c.go_.ulog, ulog.Options{Slots: uint32(c.go_.slots), ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	last, err := l.Last()
	l.Close()
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		fmt.Sprintf("\nkpropd_iprop_last_serial %d\n", last.Sno),
		"\nkpropd_iprop_lag_seconds 0\n",
		"\nkpropd_iprop_last_poll_timestamp_seconds ",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("no %q in our kpropd's metrics (update log at serial %d):\n%s", strings.TrimSpace(want), last.Sno, body)
		}
	}
}

// denied: without the p privilege kadmind answers UPDATE_PERM_DENIED and
// both kpropds give up; nothing changes.
func (c *cell) denied() {
	t := c.t
	c.p.h.WriteKadmACL(t, c.p.h.KipropPrincipal()+" i")
	c.p.stopKadmind(t)
	c.p.startKadmind(t)
	c.p.h.Kadmin(t, `modprinc -maxlife "6 hours" alice`)
	c.cycle([]string{"Calling iprop_get_updates_1 (sno=", "get_updates permission denied", "ERROR returned by primary, bailing"}, "Got incremental")
	c.check("PERM_DENIED")
	c.p.h.WriteKadmACL(t, c.p.h.KipropPrincipal()+" p")
	c.p.stopKadmind(t)
	c.p.startKadmind(t)
	c.cycle(incremental, noFull...)
}

// wrongKey: with a kiprop key the KDC no longer has, both kpropds fail
// their AS exchange and retry with backoff; nothing changes. Then the
// new key in the keytab lets them through.
func (c *cell) wrongKey() {
	t := c.t
	c.p.h.Kadmin(t, "cpw -randkey -e "+strings.Join(sessionEnctypes(), ":normal,")+":normal "+c.p.h.KipropPrincipal())
	for _, r := range []*replica{c.mit, c.go_} {
		d := r.start(t, c.p, mitrealm.ReservePort(t))
		d.WaitFor(t, "Sleeping 4 seconds to re-initialize kadm5 (krb5kdc not running?)", time.Minute)
		requireLines(t, r.name, d.Output(), "Initializing kadm5 as client", "kadm5 initialization failed!",
			"while initializing ", " interface, retrying", "Sleeping 4 seconds to re-initialize kadm5 (krb5kdc not running?)")
		refuseLines(t, r.name, d.Output(), "Calling iprop_get_updates_1")
		d.Stop()
	}
	c.check("wrong key")
	for _, r := range []*replica{c.mit, c.go_} {
		c.p.h.Kadmin(t, fmt.Sprintf("ktadd -k %s -norandkey %s", mitrealm.Quote("FILE:"+r.h.Keytab), c.p.h.KipropPrincipal()))
	}
	c.cycle(incremental, noFull...)
	c.check("new key")
}

// cascade: each replica serves iprop to a replica of its own with MIT
// kadmind -proponly, which reads the update log the replica's kpropd
// wrote; MIT kpropd below it takes a full resync, then an update that
// passed through both levels. The two lower replicas must agree too.
func (c *cell) cascade() {
	t := c.t
	var lower []*replica
	var uppers []*primary
	for _, r := range []*replica{c.mit, c.go_} {
		up := r.proponly(t, c.p)
		uppers = append(uppers, up)
		low := up.newReplica(t, r.name+"-below", mustLook(t, "kpropd"), c.enctype, 8)
		low.loadFrom(t, filepath.Join(c.p.h.Dir, "initial.dump"))
		lower = append(lower, low)
	}
	twins(t, lower[0], lower[1])
	for i, low := range lower {
		requireLines(t, low.name, low.runOnce(t, uppers[i]), fullResync...)
	}
	sameState(t, "cascade full", lower[0], lower[1])
	c.p.h.Kadmin(t, `modprinc -maxlife "7 hours" alice`, `addprinc -randkey -clearpolicy cascaded`)
	c.cycle(incremental, noFull...)
	for i, low := range lower {
		requireLines(t, low.name, low.runOnce(t, uppers[i]), incremental...)
	}
	c.check("cascade (upper replicas)")
	dump, ul := sameState(t, "cascade (lower replicas)", lower[0], lower[1])
	out := "dump " + map[bool]string{true: "identical", false: "DIFFERENT"}[dump] + ", ulog " + ul
	record("cascade under kadmind -proponly (lower replicas)", c.enctype, out)
	for _, up := range uppers {
		up.kadmind.Stop()
	}
}

// proponly starts MIT kadmind -proponly on r, serving r's database and
// update log on a port of its own, and returns it as the primary of a
// lower replica. Like t_iprop.py's replica1m, it has a profile of its
// own naming the same database and log.
func (r *replica) proponly(t *testing.T, top *primary) *primary {
	t.Helper()
	conf, err := os.ReadFile(r.h.KDCConf)
	if err != nil {
		t.Fatal(err)
	}
	port := mitrealm.ReservePort(t)
	text := string(conf)
	for _, re := range []struct{ from, to string }{
		{`iprop_port = \d+`, fmt.Sprintf("iprop_port = %d", port)},
		{`iprop_listen = 127\.0\.0\.1:\d+`, fmt.Sprintf("iprop_listen = 127.0.0.1:%d", port)},
		{`kadmind_listen = 127\.0\.0\.1:\d+`, fmt.Sprintf("kadmind_listen = 127.0.0.1:%d", mitrealm.ReservePort(t))},
		{`kpasswd_listen = 127\.0\.0\.1:\d+`, fmt.Sprintf("kpasswd_listen = 127.0.0.1:%d", mitrealm.ReservePort(t))},
	} {
		text = regexp.MustCompile(re.from).ReplaceAllString(text, re.to)
	}
	path := filepath.Join(r.h.Dir, "kdc-proponly.conf")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(r.h.Dir, "kadm5.acl"), []byte(top.h.KipropPrincipal()+" p\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	up := &primary{h: r.h, ip: &mitrealm.Iprop{Port: port, LogFile: r.ulog, ULogSize: r.slots}, kprop: mustLook(t, "kprop"),
		kpropPort: mitrealm.ReservePort(t), dumpFile: filepath.Join(r.h.Dir, "proponly_datatrans")}
	cmd := r.h.Command(mustLook(t, "kadmind"), "-nofork", "-proponly", "-r", r.h.Realm, "-p", mustLook(t, "kdb5_util"),
		"-K", up.kprop, "-F", up.dumpFile, "-k", fmt.Sprint(up.kpropPort))
	// Its kprop gets credentials from the top primary's KDC.
	cmd.Env = mitrealm.SetEnv(r.h.Env(), "KRB5_KDC_PROFILE="+path, "KRB5_CONFIG="+top.h.KRB5Conf)
	up.kadmind = mitrealm.StartDaemon(t, cmd, "starting...")
	waitPort(t, port)
	// The lower replica's kpropd gets its kiprop ticket from the top
	// primary's KDC: use the top's krb5.conf for it.
	up.clientOf = top
	return up
}

// kinit: a principal added on the primary gets a ticket from each
// replica's own KDC.
func (c *cell) kinit() {
	t := c.t
	c.p.h.Kadmin(t, `addprinc -pw Fresh-Passw0rd -clearpolicy fresh`)
	c.cycle(incremental, noFull...)
	for _, r := range []*replica{c.mit, c.go_} {
		r.h.StartKDC(t)
		r.setPoll(t, c.p, "1") // StartKDC may have rewritten kdc.conf
		out := r.h.Kinit(t, "fresh", "Fresh-Passw0rd")
		if !strings.Contains(r.h.KDCLog(t), "fresh@"+c.p.h.Realm+" for krbtgt/") {
			t.Fatalf("%s's KDC did not issue fresh's ticket:\n%s\n%s", r.name, out, r.h.KDCLog(t))
		}
	}
	c.check("kinit against the replica's KDC")
}

// waitPort waits until something listens on 127.0.0.1:port.
func waitPort(t *testing.T, port int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing listens on port %d", port)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
