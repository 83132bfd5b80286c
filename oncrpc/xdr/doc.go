// Package xdr encodes and decodes the External Data Representation of RFC
// 4506, the wire format of ONC RPC and of MIT Kerberos's incremental
// propagation.
//
// Encoding is append-style (AppendUint32, AppendOpaque, ...), as in
// strconv and encoding/binary: callers build a message into one buffer.
// Decoding goes through a Decoder over a byte slice with a sticky error,
// so a type's decoder reads all its fields and checks once. Every
// variable-length item takes an explicit bound from the caller, and a
// length or count is checked against both that bound and the bytes left
// before anything is allocated for it; a hostile length cannot make the
// decoder allocate more than the input's size. The decoder is strict
// where MIT's is lenient: padding must be zero, a bool must be 0 or 1 and
// a short must fit 16 bits, so that decoding and re-encoding reproduce
// the input byte for byte.
//
// The package has no reflection and no schema: the types of a protocol
// (package iprop for MIT's iprop.x) carry their own AppendXDR and decode
// methods built from these primitives. Floating point, hyper integers and
// discriminated unions as a generic construct are not provided.
package xdr
