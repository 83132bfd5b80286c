package krbauth

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/jcmturner/gofork/encoding/asn1"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/gokprop/gokprop/internal/kcrypto"
	"github.com/gokprop/gokprop/krb5"
)

// The fast data phase is a departure from MIT's wire that two ends of this
// module negotiate during sendauth, invisibly to MIT peers:
//
//   - Offer: the client's authenticator carries authorization data with
//     one AD-IF-RELEVANT element (ad-type 1) holding one element of the
//     private ad-type fastDataADType whose ad-data is fastDataOffer. RFC
//     4120 has receivers ignore elements of AD-IF-RELEVANT they do not
//     understand; MIT's krb5_rd_req only looks inside for RFC 4537's
//     etype list, so MIT kpropd accepts the AP-REQ as if there were none.
//   - Acceptance: a server of this module that sees the offer (and has
//     ServerConfig.FastData set) puts a fresh random subkey of the
//     session key's enctype in its AP-REP. MIT kpropd never sends an
//     AP-REP subkey, so a client that offered treats a subkey as the
//     acceptance and its absence as MIT's wire. With a subkey both ends
//     use it, as MIT's krb5_rd_rep arranges, for the KRB-SAFE and
//     KRB-ERROR messages.
//   - Data: once accepted, the KRB-PRIV stream of PrivWriter and
//     PrivReader is replaced by AES-256-GCM records under a key derived
//     with HKDF-SHA256 from the subkey (so every session has its own).
//     Each record is one frame of MIT's framing: 4-byte big-endian
//     length, the type byte fastRecordType, then the GCM ciphertext and
//     16-byte tag of up to FastRecordSize bytes of user data. The nonce
//     is 4 zero bytes and the record's index (from 0) as 8 big-endian
//     bytes; the associated data is the type byte, the record's offset
//     in the stream and the stream's total size (8 bytes each), so a
//     record that is reordered, replayed, moved to another offset or to
//     a stream of another size fails to open, and the receiver, which
//     knows the total from the size message, sees truncation as a
//     missing record.
const (
	// fastDataADType is the private (negative, RFC 4120 section 7.5.4)
	// ad-type of the offer element.
	fastDataADType int32 = -2147417
	// adIfRelevant is RFC 4120's AD-IF-RELEVANT.
	adIfRelevant int32 = 1
	// fastRecordType is the first byte of every record; a KRB-ERROR's
	// first byte is 0x7e.
	fastRecordType byte = 0x01
	// fastTagLen is the GCM tag length.
	fastTagLen = 16
	// fastAADLen is the length of the associated data.
	fastAADLen = 1 + 8 + 8
)

// fastDataOffer names the fast data phase and its version in the offer.
const fastDataOffer = "gokprop fast data 1: aes256-gcm hkdf-sha256"

// fastKeyInfo is the HKDF info string of the data key.
const fastKeyInfo = "gokprop fast data 1 kprop to kpropd"

// FastRecordSize is the most user data one record of the fast data phase
// carries: kprop's chunk size once the fast data phase is negotiated.
const FastRecordSize = 256 << 10

// fastEligible reports whether the fast data phase can be used with a
// session key of enctype et: any whose random-to-key is the identity
// (every enctype but des3, whose keys carry parity bits).
func fastEligible(et int32) bool {
	s := kcrypto.Lookup(et)
	return s.Implemented() && s.Family != kcrypto.FamDES3
}

// fastOfferAD returns the authorization data of the offer.
func fastOfferAD() (types.AuthorizationData, error) {
	inner := types.AuthorizationData{{ADType: fastDataADType, ADData: []byte(fastDataOffer)}}
	b, err := asn1.Marshal(inner)
	if err != nil {
		return nil, fmt.Errorf("encode fast data offer: %w", err)
	}
	return types.AuthorizationData{{ADType: adIfRelevant, ADData: b}}, nil
}

// hasFastOffer reports whether an authenticator's authorization data
// holds the offer, inside an AD-IF-RELEVANT element. Undecodable
// AD-IF-RELEVANT contents count as no offer.
func hasFastOffer(ad types.AuthorizationData) bool {
	for _, e := range ad {
		if e.ADType != adIfRelevant {
			continue
		}
		var inner types.AuthorizationData
		if err := unmarshalDER(e.ADData, &inner, ""); err != nil {
			continue
		}
		for _, x := range inner {
			if x.ADType == fastDataADType && string(x.ADData) == fastDataOffer {
				return true
			}
		}
	}
	return false
}

// newFastSubkey draws the acceptor's subkey: random bytes of the session
// enctype's key length.
func newFastSubkey(r io.Reader, et int32) (types.EncryptionKey, error) {
	if r == nil {
		r = rand.Reader
	}
	k := make([]byte, kcrypto.Lookup(et).KeyLen)
	if _, err := io.ReadFull(r, k); err != nil {
		return types.EncryptionKey{}, fmt.Errorf("fast data subkey: %w", err)
	}
	return types.EncryptionKey{KeyType: et, KeyValue: k}, nil
}

// fastDataKey derives the AES-256-GCM key of the data phase from the
// subkey.
func fastDataKey(subkey []byte) ([]byte, error) {
	return hkdf.Key(sha256.New, subkey, nil, fastKeyInfo, 32)
}

// newFastAEAD returns an AES-256-GCM AEAD for key.
func newFastAEAD(key []byte) (cipher.AEAD, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

// fastNonce and fastAAD fill the nonce and associated data of a record.
func fastNonce(dst *[12]byte, index uint64) {
	*dst = [12]byte{}
	binary.BigEndian.PutUint64(dst[4:], index)
}

func fastAAD(dst *[fastAADLen]byte, offset, total int64) {
	dst[0] = fastRecordType
	binary.BigEndian.PutUint64(dst[1:], uint64(offset))
	binary.BigEndian.PutUint64(dst[9:], uint64(total))
}

// ErrFastRecord is matched by the error of a fast data record that is not
// one: too short, too long, of another type, or exceeding the expected
// total. A record that fails authentication matches krb5.ErrBadIntegrity.
var ErrFastRecord = errors.New("krbauth: malformed fast data record")

// fastShapeError is the error of a frame that is not a record: the
// peer's KRB-ERROR, as a *RemoteError, or ErrFastRecord.
func fastShapeError(frame []byte) error {
	if re, ok := parseKRBError(frame); ok {
		return re
	}
	return fmt.Errorf("%w: type byte", ErrFastRecord)
}

// fastOpener opens records: one per goroutine, its nonce and associated
// data buffers allocated once.
type fastOpener struct {
	aead  cipher.AEAD
	nonce [12]byte
	aad   [fastAADLen]byte
}

// open checks and decrypts one record's frame contents in place,
// returning the user data.
func (o *fastOpener) open(frame []byte, index uint64, offset, total int64) ([]byte, error) {
	if len(frame) == 0 || frame[0] != fastRecordType {
		return nil, fastShapeError(frame)
	}
	ct := frame[1:]
	if len(ct) <= fastTagLen || len(ct)-fastTagLen > FastRecordSize {
		return nil, fmt.Errorf("%w: %d bytes", ErrFastRecord, len(frame))
	}
	if n := int64(len(ct) - fastTagLen); n > total-offset {
		return nil, fmt.Errorf("%w: %d bytes at offset %d of %d", ErrFastRecord, n, offset, total)
	}
	fastNonce(&o.nonce, index)
	fastAAD(&o.aad, offset, total)
	pt, err := o.aead.Open(ct[:0], o.nonce[:], ct, o.aad[:])
	if err != nil {
		return nil, fmt.Errorf("fast data record %d: %w", index, krb5.ErrBadIntegrity)
	}
	return pt, nil
}
