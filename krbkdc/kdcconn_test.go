package krbkdc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jcmturner/gokrb5/v8/iana"
	"github.com/jcmturner/gokrb5/v8/iana/msgtype"
	"github.com/jcmturner/gokrb5/v8/iana/nametype"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/gokprop/gokprop/krb5"
	"github.com/gokprop/gokprop/krbconf"
)

// testServer is a fake KDC endpoint on loopback: one UDP socket and one
// TCP listener on the same port, both handing requests to handle.
type testServer struct {
	t      *testing.T
	port   int
	udp    net.PacketConn
	tcp    net.Listener
	handle func(proto string, req []byte) []byte // nil reply: stay silent

	mu  sync.Mutex
	log []string // "udp" or "tcp" per request received
	wg  sync.WaitGroup
}

// startTestServer listens on 127.0.0.1 for UDP and TCP on one port.
func startTestServer(t *testing.T, handle func(proto string, req []byte) []byte) *testServer {
	t.Helper()
	s := &testServer{t: t, handle: handle}
	for try := 0; ; try++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			l.Close()
			if try < 20 {
				continue
			}
			t.Fatal(err)
		}
		s.tcp, s.udp, s.port = l, u, port
		break
	}
	s.wg.Add(2)
	go s.serveUDP()
	go s.serveTCP()
	t.Cleanup(s.Close)
	return s
}

func (s *testServer) Close() {
	s.udp.Close()
	s.tcp.Close()
	s.wg.Wait()
}

func (s *testServer) record(proto string) {
	s.mu.Lock()
	s.log = append(s.log, proto)
	s.mu.Unlock()
}

func (s *testServer) requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.log)
}

func (s *testServer) serveUDP() {
	defer s.wg.Done()
	buf := make([]byte, 65536)
	for {
		n, from, err := s.udp.ReadFrom(buf)
		if err != nil {
			return
		}
		req := append([]byte(nil), buf[:n]...)
		s.record("udp")
		if reply := s.handle("udp", req); reply != nil {
			s.udp.WriteTo(reply, from)
		}
	}
}

func (s *testServer) serveTCP() {
	defer s.wg.Done()
	for {
		c, err := s.tcp.Accept()
		if err != nil {
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer c.Close()
			c.SetDeadline(time.Now().Add(10 * time.Second))
			req, err := readTCP(c, 1<<20)
			if err != nil {
				return
			}
			s.record("tcp")
			if reply := s.handle("tcp", req); reply != nil {
				writeTCP(c, reply)
			} else {
				// Stay silent until the client gives up.
				buf := make([]byte, 1)
				c.Read(buf)
			}
		}()
	}
}

func (s *testServer) kdcLine(prefix string) string {
	return fmt.Sprintf("kdc = %s127.0.0.1:%d\n", prefix, s.port)
}

// deadPort returns a loopback port with nothing listening on it.
func deadPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

func krbErrorBytes(t testing.TB, code krb5.ErrorCode, text string, edata []byte) []byte {
	e := messages.KRBError{
		PVNO:      iana.PVNO,
		MsgType:   msgtype.KRB_ERROR,
		STime:     time.Now().UTC().Truncate(time.Second),
		ErrorCode: int32(code),
		Realm:     "TEST.REALM",
		SName:     types.PrincipalName{NameType: nametype.KRB_NT_SRV_INST, NameString: []string{"krbtgt", "TEST.REALM"}},
		EData:     edata,
	}
	if text != "" {
		e.EText = text + "\x00"
	}
	b, err := e.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// mustParse parses a krb5.conf text.
func mustParse(t *testing.T, text string) *krbconf.Config {
	t.Helper()
	c, err := krbconf.ParseConfig(strings.NewReader(text), "krb5.conf")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func testClient(t *testing.T, conf string) *KDCClient {
	t.Helper()
	return &KDCClient{Config: mustParse(t, conf)}
}

func echoProto(proto string, req []byte) []byte {
	return append([]byte(proto+":"), req...)
}

func TestSendToKDCTransportChoice(t *testing.T) {
	srv := startTestServer(t, echoProto)
	ctx := context.Background()
	tests := []struct {
		name    string
		libdefs string
		prefix  string
		msgLen  int
		tcpOnly bool
		want    string
	}{
		{"small request: UDP first", "", "", 100, false, "udp"},
		{"at the limit: UDP", "udp_preference_limit = 100", "", 100, false, "udp"},
		{"above the limit: TCP first", "udp_preference_limit = 99", "", 100, false, "tcp"},
		{"limit 0: TCP first", "udp_preference_limit = 0", "", 1, false, "tcp"},
		{"retry after RESPONSE_TOO_BIG: TCP only", "", "", 10, true, "tcp"},
		{"tcp/ entry", "", "tcp/", 10, false, "tcp"},
		{"udp/ entry", "udp_preference_limit = 0", "udp/", 10, false, "udp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := testClient(t, "[libdefaults]\n"+tt.libdefs+"\n[realms]\nTEST.REALM = {\n"+srv.kdcLine(tt.prefix)+"}\n")
			msg := bytes.Repeat([]byte{'x'}, tt.msgLen)
			reply, err := k.sendToKDC(ctx, "TEST.REALM", msg, tt.tcpOnly)
			if err != nil {
				t.Fatal(err)
			}
			if want := append([]byte(tt.want+":"), msg...); !bytes.Equal(reply, want) {
				t.Errorf("reply %q", reply[:min(len(reply), 10)])
			}
		})
	}
	// A udp/ entry is skipped when only TCP may be used.
	k := testClient(t, "[realms]\nTEST.REALM = {\n"+srv.kdcLine("udp/")+"}\n")
	if _, err := k.sendToKDC(ctx, "TEST.REALM", []byte("x"), true); !errors.Is(err, ErrKDCUnreachable) {
		t.Errorf("udp-only KDC with tcpOnly: %v", err)
	}
}

func TestSendToKDCFallsBackToTCPWhenUDPSilent(t *testing.T) {
	srv := startTestServer(t, func(proto string, req []byte) []byte {
		if proto == "udp" {
			return nil
		}
		return echoProto(proto, req)
	})
	k := testClient(t, "[realms]\nR = {\n"+srv.kdcLine("")+"}\n")
	k.RetryUnit = 40 * time.Millisecond
	start := time.Now()
	reply, err := k.sendToKDC(context.Background(), "R", []byte("hello"), false)
	if err != nil {
		t.Fatal(err)
	}
	if string(reply) != "tcp:hello" {
		t.Errorf("reply %q", reply)
	}
	if got := srv.requests(); !slices.Equal(got, []string{"udp", "tcp"}) {
		t.Errorf("requests %q", got)
	}
	// The deferred TCP attempt starts one unit after the UDP one.
	if d := time.Since(start); d < 40*time.Millisecond {
		t.Errorf("TCP tried after %v, before the UDP attempt's unit", d)
	}
}

func TestSendToKDCRetransmitsUDP(t *testing.T) {
	var mu sync.Mutex
	n := 0
	srv := startTestServer(t, func(proto string, req []byte) []byte {
		if proto == "tcp" {
			return nil // never answers over TCP
		}
		mu.Lock()
		defer mu.Unlock()
		n++
		if n == 1 {
			return nil // lose the first datagram
		}
		return echoProto(proto, req)
	})
	k := testClient(t, "[realms]\nR = {\n"+srv.kdcLine("")+"}\n")
	k.RetryUnit = 10 * time.Millisecond
	reply, err := k.sendToKDC(context.Background(), "R", []byte("again"), false)
	if err != nil {
		t.Fatal(err)
	}
	if string(reply) != "udp:again" {
		t.Errorf("reply %q", reply)
	}
	if got := srv.requests(); len(got) < 3 || got[0] != "udp" || got[1] != "tcp" || got[2] != "udp" {
		t.Errorf("requests %q", got)
	}
}

func TestSendToKDCSkipsDeadAndUnavailableKDCs(t *testing.T) {
	ctx := context.Background()
	good := startTestServer(t, echoProto)
	unavailable := startTestServer(t, func(string, []byte) []byte {
		return krbErrorBytes(t, krb5.ErrSvcUnavailable, "", nil)
	})
	dead := deadPort(t)
	conf := fmt.Sprintf("[realms]\nR = {\nkdc = 127.0.0.1:%d\n%s%s}\n", dead, unavailable.kdcLine(""), good.kdcLine(""))
	k := testClient(t, conf)
	k.RetryUnit = 40 * time.Millisecond
	start := time.Now()
	reply, err := k.sendToKDC(ctx, "R", []byte("m"), false)
	if err != nil {
		t.Fatal(err)
	}
	if string(reply) != "udp:m" {
		t.Errorf("reply %q", reply)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v", d)
	}
	// Only unavailable KDCs: the KDC error is reported.
	k = testClient(t, "[realms]\nR = {\n"+unavailable.kdcLine("")+"}\n")
	_, err = k.sendToKDC(ctx, "R", []byte("m"), false)
	var ke *KDCError
	if !errors.As(err, &ke) || ke.Code != krb5.ErrSvcUnavailable {
		t.Errorf("all unavailable: %v", err)
	}
	// Only dead KDCs: unreachable, quickly (refused connections end attempts).
	k = testClient(t, fmt.Sprintf("[realms]\nR = {\nkdc = 127.0.0.1:%d\n}\n", dead))
	start = time.Now()
	_, err = k.sendToKDC(ctx, "R", []byte("m"), false)
	if !errors.Is(err, ErrKDCUnreachable) {
		t.Errorf("dead KDC: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("dead KDC took %v", d)
	}
}

func TestSendToKDCAddressesAndDNS(t *testing.T) {
	ctx := context.Background()
	srv := startTestServer(t, echoProto)
	dead := netip.MustParseAddr("127.0.0.3")
	k := testClient(t, fmt.Sprintf("[realms]\nR = {\nkdc = kdc.test:%d\n}\n", srv.port))
	var lookups []string
	k.LookupIP = func(_ context.Context, host string) ([]netip.Addr, error) {
		lookups = append(lookups, host)
		return []netip.Addr{dead, netip.MustParseAddr("127.0.0.1")}, nil
	}
	if reply, err := k.sendToKDC(ctx, "R", []byte("a"), true); err != nil || string(reply) != "tcp:a" {
		t.Errorf("second address: %q, %v", reply, err)
	}
	if !slices.Equal(lookups, []string{"kdc.test"}) {
		t.Errorf("lookups %q", lookups)
	}

	// No kdc entries: SRV records, unless dns_lookup_kdc = false.
	k = testClient(t, "")
	var srvQueries []string
	k.LookupSRV = func(_ context.Context, service, proto, name string) (string, []*net.SRV, error) {
		srvQueries = append(srvQueries, fmt.Sprintf("_%s._%s.%s", service, proto, name))
		if proto == "tcp" {
			return "", nil, errors.New("no such record")
		}
		return "", []*net.SRV{{Target: "127.0.0.1.", Port: uint16(srv.port)}}, nil
	}
	if reply, err := k.sendToKDC(ctx, "SRV.REALM", []byte("s"), false); err != nil || string(reply) != "udp:s" {
		t.Errorf("SRV KDC: %q, %v", reply, err)
	}
	if !slices.Equal(srvQueries, []string{"_kerberos._udp.SRV.REALM", "_kerberos._tcp.SRV.REALM"}) {
		t.Errorf("SRV queries %q", srvQueries)
	}
	k.Config = mustParse(t, "[libdefaults]\ndns_lookup_kdc = false\n")
	if _, err := k.sendToKDC(ctx, "SRV.REALM", []byte("s"), false); !errors.Is(err, ErrRealmCantResolve) {
		t.Errorf("no KDCs: %v", err)
	}
	k.Config = mustParse(t, "[realms]\nR = {\nkdc = https://proxy.example/KdcProxy\n}\n")
	if _, err := k.sendToKDC(ctx, "R", []byte("s"), false); !errors.Is(err, ErrKDCUnreachable) {
		t.Errorf("https only: %v", err)
	}
	k.Config = mustParse(t, "[libdefaults]\nudp_preference_limit = lots\n[realms]\nR = {\n"+srv.kdcLine("")+"}\n")
	if _, err := k.sendToKDC(ctx, "R", []byte("s"), false); !errors.Is(err, krbconf.ErrProfileBadInteger) {
		t.Errorf("bad udp_preference_limit: %v", err)
	}
}

func TestSendToKDCContextDeadline(t *testing.T) {
	srv := startTestServer(t, func(string, []byte) []byte { return nil })
	k := testClient(t, "[realms]\nR = {\n"+srv.kdcLine("")+"}\n")
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := k.sendToKDC(ctx, "R", []byte("x"), false)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("returned after %v", d)
	}
}

func TestSendToKDCLogsToInjectedLogger(t *testing.T) {
	srv := startTestServer(t, echoProto)
	k := testClient(t, "[realms]\nR = {\n"+srv.kdcLine("")+"}\n")
	var buf syncBuffer
	k.Logger = newTestLogger(&buf)
	if _, err := k.sendToKDC(context.Background(), "R", []byte("x"), false); err != nil {
		t.Fatal(err)
	}
	if s := buf.String(); !strings.Contains(s, "received reply from KDC") || !strings.Contains(s, "realm=R") {
		t.Errorf("log:\n%s", s)
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newTestLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
