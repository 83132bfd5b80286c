package krbauth

import "github.com/jcmturner/gokrb5/v8/types"

// BuildAPReq encodes an AP-REQ presenting creds with the authenticator
// auth, as MIT's krb5_mk_req_extended puts it on the wire: ap-options
// mutual-required, the ticket as issued, and auth encrypted in the session
// key under key usage 11, without a kvno. The caller fills auth; a
// protocol built on AP-REQ (the GSS-API Kerberos mechanism) sets its own
// checksum, subkey, sequence number and authorization data there.
func BuildAPReq(creds *Credentials, auth types.Authenticator) ([]byte, error) {
	return buildAPReq(creds, auth)
}

// ReadAPRep verifies an AP-REP answering the AP-REQ whose authenticator
// was auth, as MIT's krb5_rd_rep does: it decrypts it with key (the
// ticket's session key) under key usage 12 and requires the reply's
// ctime and cusec to equal the authenticator's (krb5.ErrMutualFail
// otherwise). It returns the server's sequence number (0 when absent) and
// its subkey (nil when absent); a subkey that is not a key of an
// implemented enctype with that enctype's length is refused.
func ReadAPRep(msg []byte, key types.EncryptionKey, auth types.Authenticator) (seq uint32, subkey *types.EncryptionKey, err error) {
	f, err := readAPRep(msg, key, auth)
	if err != nil {
		return 0, nil, err
	}
	return f.seq, f.subkey, nil
}
