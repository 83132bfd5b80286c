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

// role says which side of the handshake a session is on. It decides the
// conventions of the KRB-ERRORs the session builds (MIT's kprop and kpropd
// fill them differently).
type role int

const (
	roleClient role = iota // the sendauth side (kprop)
	roleServer             // the recvauth side (kpropd)
)

// session is the record state a handshake establishes, the analogue of
// crypto/tls's halfConn pair: it alone owns the session key, the sequence
// numbers and the KRB-PRIV cipher state, and it builds and checks every
// protected message that follows (KRB-SAFE, KRB-PRIV, KRB-ERROR). The Conn
// moves those messages; the session never touches the network.
//
// Like an MIT auth context, a session has one KRB-PRIV cipher state, used
// by both sealPriv and openPriv once initCipherState has been called.
type session struct {
	role        role
	key         types.EncryptionKey
	localSeq    uint32
	remoteSeq   uint32
	localAddr   types.HostAddress
	client      krb5.Principal
	server      krb5.Principal
	ticketEtype int32

	spec    *kcrypto.Spec         // the session key's row of the enctype table
	priv    kcrypto.MessageCipher // KRB-PRIV keys and cipher state (usage 13)
	chained bool                  // initCipherState was called
	rand    io.Reader             // confounder source
	// MIT's KRB5_AUTH_CONN_SANE_SEQ / HEIMDAL_SEQ: what the peer's
	// sequence-number encoding has been found to be.
	seqSane, seqHeimdal bool
	scratch             []byte // decrypted KRB-PRIV plaintext, reused
	// fastKey is the AES-256-GCM key of the negotiated fast data phase
	// (see fastdata.go); nil: MIT's KRB-PRIV stream.
	fastKey []byte
	// fastOffered: the client offered the fast data phase.
	fastOffered bool
}

// sessionParams carries what a handshake established.
type sessionParams struct {
	role        role
	key         types.EncryptionKey // ticket session key (MIT kprop uses no subkeys)
	localSeq    uint32              // our sequence number (authenticator or AP-REP)
	remoteSeq   uint32              // the peer's sequence number
	localAddr   types.HostAddress   // s-address of messages we send
	client      krb5.Principal      // the authenticated client
	server      krb5.Principal      // the service principal
	ticketEtype int32               // enctype of the ticket's enc-part
	rand        io.Reader           // confounder source; nil means crypto/rand
	fastKey     []byte              // the fast data phase's key, if negotiated
	fastOffered bool                // the client offered the fast data phase
}

// newSession builds the record state of a completed handshake. It fails
// for a session key whose enctype this package cannot protect messages with
// (the error wraps krb5.ErrUnsupportedEnctype) or whose length does not fit
// its enctype.
func newSession(p sessionParams) (*session, error) {
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
	return &session{
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
		fastKey:     p.fastKey,
		fastOffered: p.fastOffered,
	}, nil
}
