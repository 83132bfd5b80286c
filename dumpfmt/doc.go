// Package dumpfmt reads, writes and validates the database dumps of MIT
// Kerberos's kdb5_util, the payload kprop propagates to replica KDCs.
//
// It knows every format MIT 1.20 writes or loads: the "kdb5_util
// load_dump version" 4 (dump -b7), 5 (-r13), 6 (-r18) and 7 (the default
// since 1.11) headers, and the iprop headers "iprop SNO SEC USEC" and
// "ipropx VER SNO SEC USEC" (dump -i). Anything else, including the
// OpenV*Secure format MIT no longer loads, is rejected.
//
// Reader yields one record (*Principal or *Policy) at a time in memory
// bounded by the longest line; Writer is its exact inverse, so reading and
// writing any dump MIT wrote reproduces it byte for byte. The Reader is
// strict: it accepts MIT's output exactly (canonical decimals, lower-case
// hex, MIT's separators), not every variation MIT's scanf-based loader
// would tolerate, because a replica should never load a dump we have not
// understood. Among what MIT's loader takes and this package refuses:
// numbers with signs, leading zeros or surrounding blanks, upper-case hex,
// CR-LF line ends, text after a record's ';', principal names without a
// realm or with a NUL byte, key data versions other than 1 and 2, counts
// beyond the 16-bit fields MIT stores them in, and (in Validate) a
// principal or policy appearing twice, which MIT's loader silently
// resolves by keeping the last. Errors are *ParseError values saying file, line and field,
// and unwrap to sentinels such as ErrLength or ErrTruncated.
//
// Validate is the fast path for "is this dump safe to load": it checks
// every record without building them and adds the checks that span
// records (no duplicates, K/M and krbtgt present). Validator does the same
// as an io.Writer, for a dump that arrives in pieces: it takes writes cut
// anywhere, holds at most one line, and reports exactly what Validate
// reports, so that a replica can verify a dump as it streams in instead of
// reading it again. Records keep tl-data as
// raw bytes; methods decode the types MIT defines (policy reference,
// string attributes, last password change, modifier). ReadStashFile,
// NewKeyring and Keyring.DecryptKey decrypt key data with the realm's
// master key when a caller explicitly asks.
//
// The package does not talk to a KDC, load dumps into a database, or
// convert between formats beyond what the Writer's checks allow.
package dumpfmt
