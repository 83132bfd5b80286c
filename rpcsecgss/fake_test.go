package rpcsecgss

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"

	"github.com/gokprop/gokprop/oncrpc"
	"github.com/gokprop/gokprop/oncrpc/xdr"
)

// fakeMech is a toy GSS mechanism for the tests of the RPCSEC_GSS layer:
// tokens are HMACs under a shared key, bound to their direction, with a
// counter so that each token differs. It stands in for Kerberos; the
// Kerberos mechanism itself is proven against MIT's kadmind.
type fakeMech struct {
	key       []byte
	initiator bool
	state     int
	mu        sync.Mutex
}

var errFakeBad = errors.New("fake mech: bad token")

func (m *fakeMech) dir(ours bool) byte {
	if m.initiator == ours {
		return 'I'
	}
	return 'A'
}

func (m *fakeMech) sum(d byte, msg []byte) []byte {
	h := hmac.New(sha256.New, m.key)
	h.Write([]byte{d})
	h.Write(msg)
	return h.Sum(nil)[:16]
}

func (m *fakeMech) InitSecContext(in []byte) ([]byte, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch m.state {
	case 0:
		m.state = 1
		return []byte("init-token"), false, nil
	case 1:
		if string(in) != "accept-token" {
			return nil, false, fmt.Errorf("fake mech: reply %q", in)
		}
		m.state = 2
		return nil, true, nil
	}
	return nil, false, errors.New("fake mech: established")
}

func (m *fakeMech) GetMIC(msg []byte) ([]byte, error) { return m.sum(m.dir(true), msg), nil }
func (m *fakeMech) VerifyMIC(msg, mic []byte) error {
	if !hmac.Equal(mic, m.sum(m.dir(false), msg)) {
		return errFakeBad
	}
	return nil
}
func (m *fakeMech) Wrap(msg []byte, conf bool) ([]byte, error) {
	c := byte(0)
	if conf {
		c = 1
	}
	body := append([]byte{c}, msg...)
	return append(body, m.sum(m.dir(true), body)...), nil
}
func (m *fakeMech) Unwrap(tok []byte) ([]byte, bool, error) {
	if len(tok) < 17 {
		return nil, false, errFakeBad
	}
	body := tok[:len(tok)-16]
	if !hmac.Equal(tok[len(tok)-16:], m.sum(m.dir(false), body)) {
		return nil, false, errFakeBad
	}
	return body[1:], body[0] == 1, nil
}

// fakeServer plays MIT's svcauth_gss over one connection: it accepts the
// fake mechanism's token, checks each data call's header MIC, sequence
// number (a 32-call window) and body, and answers through handle.
type fakeServer struct {
	t    *testing.T
	mech *fakeMech
	conn net.Conn
	r    *bufio.Reader

	// handle answers a data call's unwrapped arguments; nil echoes them.
	handle func(proc uint32, args []byte) []byte
	// tamper, when set, may change each reply's verifier and body.
	tamper func(verf, body []byte) ([]byte, []byte)
	// deny, when non-zero, answers the next data call with this auth_stat.
	deny oncrpc.AuthStat
	// initMajor and window are what the INIT reply says.
	initMajor, window uint32

	mu        sync.Mutex
	seqs      []uint32
	creds     [][]byte
	destroyed bool
	done      chan struct{}
}

func newFakeServer(t *testing.T) (*fakeServer, *oncrpc.Client, *fakeMech) {
	key := []byte("shared fake key")
	c1, c2 := net.Pipe()
	s := &fakeServer{t: t, mech: &fakeMech{key: key}, conn: c2, r: bufio.NewReader(c2), window: 32, done: make(chan struct{})}
	go s.serve()
	cl := oncrpc.NewClient(c1, oncrpc.Config{Program: 100423, Version: 1})
	t.Cleanup(func() { cl.Close(); c2.Close(); <-s.done })
	return s, cl, &fakeMech{key: key, initiator: true}
}

func (s *fakeServer) readRecord() ([]byte, error) {
	var rec []byte
	for {
		var h [4]byte
		if _, err := io.ReadFull(s.r, h[:]); err != nil {
			return nil, err
		}
		v := binary.BigEndian.Uint32(h[:])
		frag := make([]byte, v&0x7fffffff)
		if _, err := io.ReadFull(s.r, frag); err != nil {
			return nil, err
		}
		rec = append(rec, frag...)
		if v&0x80000000 != 0 {
			return rec, nil
		}
	}
}

func (s *fakeServer) reply(xid uint32, verf oncrpc.OpaqueAuth, stat uint32, body []byte) {
	b := xdr.AppendUint32(nil, xid)
	b = xdr.AppendUint32(b, 1) // REPLY
	b = xdr.AppendUint32(b, 0) // MSG_ACCEPTED
	b = xdr.AppendUint32(b, uint32(verf.Flavor))
	b = xdr.AppendOpaque(b, verf.Body)
	b = xdr.AppendUint32(b, stat)
	b = append(b, body...)
	s.conn.Write(append(binary.BigEndian.AppendUint32(nil, uint32(len(b))|0x80000000), b...))
}

func (s *fakeServer) denied(xid uint32, stat oncrpc.AuthStat) {
	b := xdr.AppendUint32(nil, xid)
	b = xdr.AppendUint32(b, 1)
	b = xdr.AppendUint32(b, 1) // MSG_DENIED
	b = xdr.AppendUint32(b, 1) // AUTH_ERROR
	b = xdr.AppendUint32(b, uint32(stat))
	s.conn.Write(append(binary.BigEndian.AppendUint32(nil, uint32(len(b))|0x80000000), b...))
}

func (s *fakeServer) serve() {
	defer close(s.done)
	established := false
	var seqlast uint32
	var seqmask uint32
	for {
		rec, err := s.readRecord()
		if err != nil {
			return
		}
		d := xdr.NewDecoder(rec)
		xid := d.Uint32()
		d.Uint32()
		d.Uint32()
		d.Uint32()
		d.Uint32()
		proc := d.Uint32()
		if d.Uint32() != uint32(oncrpc.FlavorRPCSECGSS) {
			s.denied(xid, oncrpc.AuthTooWeak)
			continue
		}
		credBody := d.Opaque(400)
		headerEnd := d.Offset()
		verfFlavor := d.Uint32()
		verf := d.Opaque(400)
		args := rec[d.Offset():]
		cd := xdr.NewDecoder(credBody)
		vers, gproc, seq, svc := cd.Uint32(), cd.Uint32(), cd.Uint32(), Service(cd.Uint32())
		handle := cd.Opaque(400)
		if d.Err() != nil || cd.End() != nil || vers != 1 {
			s.denied(xid, oncrpc.AuthBadCred)
			continue
		}
		s.mu.Lock()
		s.creds = append(s.creds, credBody)
		s.mu.Unlock()
		switch gproc {
		case procInit, procContinueInit:
			ad := xdr.NewDecoder(args)
			tok := ad.Opaque(MaxInitToken)
			if ad.End() != nil || string(tok) != "init-token" || verfFlavor != 0 || proc != 0 {
				s.denied(xid, oncrpc.AuthRejectedCred)
				continue
			}
			res := xdr.AppendOpaque(nil, []byte("xxxx"))
			res = xdr.AppendUint32(res, s.initMajor)
			res = xdr.AppendUint32(res, 0)
			res = xdr.AppendUint32(res, s.window)
			res = xdr.AppendOpaque(res, []byte("accept-token"))
			mic, _ := s.mech.GetMIC(be32(s.window))
			if s.tamper != nil {
				mic, res = s.tamper(mic, res)
			}
			s.reply(xid, oncrpc.OpaqueAuth{Flavor: oncrpc.FlavorRPCSECGSS, Body: mic}, 0, res)
			established = true
			continue
		case procData, procDestroy:
		default:
			s.denied(xid, oncrpc.AuthRejectedCred)
			continue
		}
		if !established || string(handle) != "xxxx" {
			s.denied(xid, oncrpc.RPCSECGSSCredProblem)
			continue
		}
		// MIT's window check, then the header MIC.
		if off := int64(seqlast) - int64(seq); off < 0 {
			seqmask <<= uint(-off)
			seqlast = seq
			seqmask |= 1
		} else if off >= 32 || seqmask&(1<<off) != 0 {
			s.denied(xid, oncrpc.RPCSECGSSCtxProblem)
			continue
		} else {
			seqmask |= 1 << off
		}
		if s.mech.VerifyMIC(rec[:headerEnd], verf) != nil {
			s.denied(xid, oncrpc.RPCSECGSSCredProblem)
			continue
		}
		if s.deny != 0 {
			st := s.deny
			s.deny = 0
			s.denied(xid, st)
			continue
		}
		s.mu.Lock()
		s.seqs = append(s.seqs, seq)
		s.mu.Unlock()
		if svc == ServiceNone {
			mic, _ := s.mech.GetMIC(be32(seq))
			res := args
			if gproc == procDestroy {
				s.mu.Lock()
				s.destroyed = true
				s.mu.Unlock()
				established = false
			} else if s.handle != nil {
				res = s.handle(proc, args)
			}
			s.reply(xid, oncrpc.OpaqueAuth{Flavor: oncrpc.FlavorRPCSECGSS, Body: mic}, 0, res)
			continue
		}
		data, ok := s.unwrapArgs(svc, args)
		if !ok || len(data) < 4 || binary.BigEndian.Uint32(data) != seq {
			s.reply(xid, oncrpc.OpaqueAuth{}, 4, nil) // GARBAGE_ARGS
			continue
		}
		res := data[4:]
		if gproc == procDestroy {
			res = nil
		} else if s.handle != nil {
			res = s.handle(proc, res)
		}
		body := s.wrapResults(svc, append(be32(seq), res...))
		mic, _ := s.mech.GetMIC(be32(seq))
		if s.tamper != nil {
			mic, body = s.tamper(mic, body)
		}
		if gproc == procDestroy {
			s.mu.Lock()
			s.destroyed = true
			s.mu.Unlock()
			established = false
		}
		s.reply(xid, oncrpc.OpaqueAuth{Flavor: oncrpc.FlavorRPCSECGSS, Body: mic}, 0, body)
	}
}

func (s *fakeServer) unwrapArgs(svc Service, args []byte) ([]byte, bool) {
	d := xdr.NewDecoder(args)
	switch svc {
	case ServiceNone:
		return nil, false
	case ServiceIntegrity:
		data := d.Opaque(1 << 20)
		mic := d.Opaque(1 << 20)
		return data, d.End() == nil && s.mech.VerifyMIC(data, mic) == nil
	default:
		tok := d.Opaque(1 << 20)
		if d.End() != nil {
			return nil, false
		}
		msg, conf, err := s.mech.Unwrap(tok)
		return msg, err == nil && conf
	}
}

func (s *fakeServer) wrapResults(svc Service, data []byte) []byte {
	if svc == ServiceIntegrity {
		mic, _ := s.mech.GetMIC(data)
		return xdr.AppendOpaque(xdr.AppendOpaque(nil, data), mic)
	}
	tok, _ := s.mech.Wrap(data, true)
	return xdr.AppendOpaque(nil, tok)
}

func (s *fakeServer) seen() []uint32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]uint32(nil), s.seqs...)
}

var _ = bytes.Equal

func oncrpcVerf(b []byte) oncrpc.OpaqueAuth {
	return oncrpc.OpaqueAuth{Flavor: oncrpc.FlavorRPCSECGSS, Body: b}
}
