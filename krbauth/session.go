package krbauth

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"

	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/gokprop/gokprop/internal/kcrypto"
	"github.com/gokprop/gokprop/krb5"
)

// Role says which side of the handshake a Session is on. It decides the
// conventions of the KRB-ERRORs the session builds (MIT's kprop and kpropd
// fill them differently).
type Role int

const (
	// RoleClient is the sendauth side (kprop).
	RoleClient Role = iota
	// RoleServer is the recvauth side (kpropd).
	RoleServer
)

// Session is the outcome of a sendauth/recvauth handshake: it alone owns
// the session key, the sequence numbers and the KRB-PRIV cipher state, and
// it builds and checks every protected message that follows (KRB-SAFE,
// KRB-PRIV, KRB-ERROR). A Session is not safe for concurrent use; one
// goroutine drives one connection.
//
// Like an MIT auth context, a Session has one KRB-PRIV cipher state, used
// by both SealPriv and OpenPriv once InitCipherState has been called.
type Session struct {
	role        Role
	key         types.EncryptionKey
	localSeq    uint32
	remoteSeq   uint32
	localAddr   types.HostAddress
	client      krb5.Principal
	server      krb5.Principal
	ticketEtype int32

	spec    *kcrypto.Spec         // the session key's row of the enctype table
	priv    kcrypto.MessageCipher // KRB-PRIV keys and cipher state (usage 13)
	chained bool                  // InitCipherState was called
	rand    io.Reader             // confounder source
	// MIT's KRB5_AUTH_CONN_SANE_SEQ / HEIMDAL_SEQ: what the peer's
	// sequence-number encoding has been found to be.
	seqSane, seqHeimdal bool
	scratch             []byte // decrypted KRB-PRIV plaintext, reused
}

// sessionParams carries what a handshake established.
type sessionParams struct {
	role        Role
	key         types.EncryptionKey // ticket session key (MIT kprop uses no subkeys)
	localSeq    uint32              // our sequence number (authenticator or AP-REP)
	remoteSeq   uint32              // the peer's sequence number
	localAddr   types.HostAddress   // s-address of messages we send
	client      krb5.Principal      // the authenticated client
	server      krb5.Principal      // the service principal
	ticketEtype int32               // enctype of the ticket's enc-part
	rand        io.Reader           // confounder source; nil means crypto/rand
}

// newSession builds the Session a handshake hands to its caller. It fails
// for a session key whose enctype this package cannot protect messages with
// (the error wraps krb5.ErrUnsupportedEnctype) or whose length does not fit its
// enctype.
func newSession(p sessionParams) (*Session, error) {
	if len(p.key.KeyValue) == 0 {
		return nil, errors.New("krbauth: session without a key")
	}
	spec := kcrypto.Lookup(p.key.KeyType)
	if !spec.Implemented() {
		return nil, fmt.Errorf("krbauth: session key: %w: %s", krb5.ErrUnsupportedEnctype, krb5.Enctype(p.key.KeyType))
	}
	if len(p.key.KeyValue) != spec.KeyLen {
		return nil, fmt.Errorf("krbauth: session key of %d bytes for %s: %w",
			len(p.key.KeyValue), spec.Name, kcrypto.ErrBadKeysize)
	}
	priv, err := spec.NewCipher(p.key.KeyValue, usagePrivEncPart)
	if err != nil {
		return nil, fmt.Errorf("krbauth: session key: %w", err)
	}
	r := p.rand
	if r == nil {
		r = rand.Reader
	}
	return &Session{
		role:        p.role,
		key:         p.key,
		localSeq:    p.localSeq,
		remoteSeq:   p.remoteSeq,
		localAddr:   p.localAddr,
		client:      p.client,
		server:      p.server,
		ticketEtype: p.ticketEtype,
		spec:        spec,
		priv:        priv,
		rand:        r,
	}, nil
}

// Role reports which side of the handshake this session is on.
func (s *Session) Role() Role { return s.role }

// Client is the authenticated client principal (kprop's host principal).
func (s *Session) Client() krb5.Principal { return s.client }

// Server is the service principal the ticket was issued for.
func (s *Session) Server() krb5.Principal { return s.server }

// Enctype is the session key's encryption type.
func (s *Session) Enctype() krb5.Enctype { return krb5.Enctype(s.key.KeyType) }

// TicketEnctype is the encryption type of the ticket's enc-part, which MIT
// kpropd compares against the optional enctype column of kpropd.acl.
func (s *Session) TicketEnctype() krb5.Enctype { return krb5.Enctype(s.ticketEtype) }

// LocalSeq is the sequence number the next message we send will carry.
func (s *Session) LocalSeq() uint32 { return s.localSeq }

// RemoteSeq is the sequence number we expect on the next message received.
func (s *Session) RemoteSeq() uint32 { return s.remoteSeq }
