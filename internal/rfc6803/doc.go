// Package rfc6803 implements the Kerberos encryption types
// camellia128-cts-cmac (25) and camellia256-cts-cmac (26) and their
// checksum types cmac-camellia128 (17) and cmac-camellia256 (18), RFC
// 6803, as MIT krb5 1.20 implements them.
//
// It provides:
//
//   - EType, a gokrb5 etype.EType for each enctype (Camellia128CTSCMAC,
//     Camellia256CTSCMAC, Lookup), for EncryptedData, checksums, key
//     derivation, string-to-key and random-to-key wherever gokrb5's own
//     etypes are used;
//   - MessageCipher, the chained encryption of a run of messages under
//     one key and usage with MIT's cipher state (KRB-PRIV in kprop);
//   - CMAC, NIST SP 800-38B over any 128-bit block cipher.
//
// gokrb5's crypto.GetEtype (and so every gokrb5 helper that looks an
// enctype up by number, such as crypto.DecryptEncPart or
// messages.Ticket.DecryptEncPart) does not know enctypes 25 and 26 and
// offers no way to register them: code that needs one lookup for all
// enctypes tries Lookup before crypto.GetEtype and calls the EType's
// methods itself.
//
// The block cipher is internal/camellia; see its documentation for its
// timing side channel.
//
// # The algorithms (RFC 6803 sections 3 to 5)
//
// Key derivation is KDF-FEEDBACK-CMAC (SP 800-108 feedback mode, CMAC as
// PRF, K(0) all zeros, no context, output as long as the key).
// Ke, Ki and Kc for usage u use the constants [u]4|0xAA, [u]4|0x55 and
// [u]4|0x99. Encryption is C = CTS(Ke, state, conf|message) followed by
// H = CMAC(Ki, conf|message), all 16 bytes of it, with a 16-byte random
// confounder. A checksum is CMAC(Kc, data). String-to-key is
// PBKDF2-HMAC-SHA1 over the salt "camellia128-cts-cmac" (or
// "camellia256-cts-cmac") | 0x00 | salt, default 32768 iterations,
// followed by KDF-FEEDBACK-CMAC with the constant "kerberos".
//
// # MIT's cipher state
//
// MIT krb5 1.20.1 (krb5int_dk_cmac_encrypt and krb5int_dk_cmac_decrypt in
// src/lib/crypto/krb/enc_dk_cmac.c, the builtin Camellia enc provider in
// src/lib/crypto/builtin/enc_provider/camellia.c) moves a cipher state
// (the i_vector of krb5_auth_con_initivector) as follows, and this package
// does the same:
//
//   - The initial state is 16 zero bytes.
//   - The CMAC is computed over the plaintext (confounder and message),
//     never over the state or the ciphertext; only the CBC-CTS chaining
//     uses the state.
//   - The CTS input is the confounder and the message (there is no
//     padding), at least 16 bytes. When it is exactly 16 bytes (an empty
//     message) it is encrypted as one block with a zero IV whatever the
//     state, and the state does not change.
//   - Otherwise CBC starts from the state, and the state afterwards is the
//     last full ciphertext block: the one just before the final, possibly
//     short, block, i.e. ciphertext bytes [16*(k-2), 16*(k-1)) for a CTS
//     part of k blocks (rounded up). Encryption and decryption end in the
//     same state.
//   - The CMAC trailer does not enter the state.
//   - MIT decrypts (and so updates the caller's state in place) before it
//     checks the CMAC, so in MIT a message that fails the integrity check
//     has already moved the state; krb5_rd_priv also keeps the new state
//     when a later check (addresses, sequence number) fails. MessageCipher
//     instead holds the new state until Commit. On a kprop connection any
//     failure ends the connection, so the difference cannot show there.
//
// MIT's OpenSSL enc provider (used when krb5 is built with OpenSSL crypto;
// Debian's 1.20.1 libk5crypto uses the builtin one) differs in one corner
// only: for a 16-byte CTS input it encrypts with the state as IV instead
// of zeros. No KRB-PRIV message is empty, so this never arises there.
//
// It is not a general-purpose encryption library: use it for Kerberos
// interoperability only.
package rfc6803
