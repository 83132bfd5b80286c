package iprop

import "fmt"

// The RPC program of incremental propagation, served by MIT kadmind on
// its iprop_port (iprop.x).
const (
	Program = 100423 // KRB5_IPROP_PROG
	Version = 1      // KRB5_IPROP_VERS
)

// Procedures of program 100423 version 1.
const (
	ProcNull          = 0 // IPROP_NULL: void -> void
	ProcGetUpdates    = 1 // IPROP_GET_UPDATES: Last -> IncrResult
	ProcFullResync    = 2 // IPROP_FULL_RESYNC: void -> FullResyncResult
	ProcFullResyncExt = 3 // IPROP_FULL_RESYNC_EXT: uint32 -> FullResyncResult
)

// Full-resync dump versions a replica can ask for with FullResyncExt
// (iprop_hdr.h). MIT's kpropd asks for IpropxVersion1, the latest.
const (
	IpropxVersion0 = 0 // "iprop" dump header
	IpropxVersion1 = 1 // "ipropx 1" dump header
)

// Time is a time stamp with microseconds (kdbe_time_t). Serial numbers
// are tied to these exact values: a replica must echo them unchanged.
type Time struct {
	Seconds  uint32
	Useconds uint32
}

// Key is one key of a principal (kdbe_key_t), mirroring MIT's
// krb5_key_data: Version pairs of (type, contents), the key's enctype and
// encrypted key, then the salt type and salt when Version is 2.
type Key struct {
	Version  int32   // k_ver: number of pairs, 1 or 2
	Kvno     int32   // k_kvno
	Types    []int32 // k_enctype: enctype, then salt type
	Contents [][]byte
}

// Component is one component of a principal name (kdbe_data_t).
type Component struct {
	Magic int32 // k_magic: the krb5_data magic, which MIT copies but ignores
	Data  string
}

// Principal is a principal name as iprop carries it (kdbe_princ_t):
// realm, components and name type, not the unparsed string.
type Principal struct {
	Realm      string
	Components []Component
	NameType   int32
}

// TLData is one tagged-data item of a principal (kdbe_tl_t).
type TLData struct {
	Type int16
	Data []byte
}

// AttrType says which attribute an Attr carries (kdbe_attr_type_t).
// Values outside AttrFlags..AttrPwHist are valid on the wire: they carry
// an opaque Extension ("futures").
type AttrType int32

// The attribute types of iprop.x. MIT 1.20's primary sends only
// AttrFlags through AttrLen (except the three lockout attributes),
// AttrModPrinc, AttrModTime and AttrPwLastChange.
const (
	AttrFlags          AttrType = 0  // AT_ATTRFLAGS: the KRB5_KDB_* flag word
	AttrMaxLife        AttrType = 1  // AT_MAX_LIFE
	AttrMaxRenewLife   AttrType = 2  // AT_MAX_RENEW_LIFE
	AttrExp            AttrType = 3  // AT_EXP: principal expiration
	AttrPwExp          AttrType = 4  // AT_PW_EXP: password expiration
	AttrLastSuccess    AttrType = 5  // AT_LAST_SUCCESS
	AttrLastFailed     AttrType = 6  // AT_LAST_FAILED
	AttrFailAuthCount  AttrType = 7  // AT_FAIL_AUTH_COUNT
	AttrPrinc          AttrType = 8  // AT_PRINC: the principal's name
	AttrKeyData        AttrType = 9  // AT_KEYDATA: the whole key list
	AttrTLData         AttrType = 10 // AT_TL_DATA: tl-data items
	AttrLen            AttrType = 11 // AT_LEN: the entry's base length
	AttrModPrinc       AttrType = 12 // AT_MOD_PRINC: who modified it
	AttrModTime        AttrType = 13 // AT_MOD_TIME: when
	AttrModWhere       AttrType = 14 // AT_MOD_WHERE
	AttrPwLastChange   AttrType = 15 // AT_PW_LAST_CHANGE
	AttrPwPolicy       AttrType = 16 // AT_PW_POLICY
	AttrPwPolicySwitch AttrType = 17 // AT_PW_POLICY_SWITCH
	AttrPwHistKvno     AttrType = 18 // AT_PW_HIST_KVNO
	AttrPwHist         AttrType = 19 // AT_PW_HIST
)

var attrNames = [...]string{
	"AT_ATTRFLAGS", "AT_MAX_LIFE", "AT_MAX_RENEW_LIFE", "AT_EXP", "AT_PW_EXP",
	"AT_LAST_SUCCESS", "AT_LAST_FAILED", "AT_FAIL_AUTH_COUNT", "AT_PRINC",
	"AT_KEYDATA", "AT_TL_DATA", "AT_LEN", "AT_MOD_PRINC", "AT_MOD_TIME",
	"AT_MOD_WHERE", "AT_PW_LAST_CHANGE", "AT_PW_POLICY", "AT_PW_POLICY_SWITCH",
	"AT_PW_HIST_KVNO", "AT_PW_HIST",
}

// String returns MIT's name of t (AT_MAX_LIFE), or "AT_<n>" for a type
// iprop.x does not define.
func (t AttrType) String() string {
	if t >= 0 && int(t) < len(attrNames) {
		return attrNames[t]
	}
	return fmt.Sprintf("AT_%d", int32(t))
}

// kind is the arm of the kdbe_val_t union a type selects.
type kind int

const (
	kindUint32 kind = iota
	kindPrincipal
	kindKeys
	kindTLData
	kindInt16
	kindString
	kindBool
	kindPwHist
	kindExtension
)

func (t AttrType) kind() kind {
	switch t {
	case AttrFlags, AttrMaxLife, AttrMaxRenewLife, AttrExp, AttrPwExp,
		AttrLastSuccess, AttrLastFailed, AttrFailAuthCount, AttrModTime,
		AttrPwLastChange, AttrPwHistKvno:
		return kindUint32
	case AttrPrinc, AttrModPrinc:
		return kindPrincipal
	case AttrKeyData:
		return kindKeys
	case AttrTLData:
		return kindTLData
	case AttrLen:
		return kindInt16
	case AttrModWhere, AttrPwPolicy:
		return kindString
	case AttrPwPolicySwitch:
		return kindBool
	case AttrPwHist:
		return kindPwHist
	}
	return kindExtension
}

// Attr is one attribute of an update: the kdbe_val_t union. Type selects
// the one field that holds the value; the others are ignored when
// encoding and zero after decoding.
type Attr struct {
	Type AttrType

	// Uint32 holds the value of AttrFlags, AttrMaxLife, AttrMaxRenewLife,
	// AttrExp, AttrPwExp, AttrLastSuccess, AttrLastFailed,
	// AttrFailAuthCount, AttrModTime, AttrPwLastChange and AttrPwHistKvno.
	Uint32 uint32
	// Principal holds AttrPrinc and AttrModPrinc.
	Principal Principal
	// Keys holds AttrKeyData.
	Keys []Key
	// TLData holds AttrTLData.
	TLData []TLData
	// Len holds AttrLen.
	Len int16
	// String holds AttrModWhere and AttrPwPolicy.
	String string
	// Bool holds AttrPwPolicySwitch.
	Bool bool
	// PwHist holds AttrPwHist: one key set per old password.
	PwHist [][]Key
	// Extension holds the opaque value of any other type.
	Extension []byte
}

// Update is one principal change (kdb_incr_update_t): an entry of the
// update log and an element of a GET_UPDATES reply.
type Update struct {
	// Principal is the principal's name as krb5_unparse_name writes it,
	// realm included.
	Principal string
	// Sno and Time identify the update; a replica stores them unchanged.
	Sno  uint32
	Time Time
	// Attrs are the changed attributes, in the primary's order. A new
	// principal carries all of them; a change only those that changed.
	Attrs []Attr
	// Deleted marks a deletion; it has no attributes.
	Deleted bool
	// Commit is the update's committed flag. A primary's log stores it
	// false in this body (the entry header holds the truth) and kadmind
	// sends the header's value; a replica stores what it received.
	Commit bool
	// KDCsSeenBy and Futures are unused by MIT and empty in practice.
	KDCsSeenBy []string
	Futures    []byte
}

// Status is the outcome of a GET_UPDATES or FULL_RESYNC call
// (update_status_t).
type Status int32

// The update_status_t values.
const (
	UpdateOK               Status = 0 // updates follow (GET_UPDATES), or resync granted
	UpdateError            Status = 1
	UpdateFullResyncNeeded Status = 2 // the replica is too far behind, or diverged
	UpdateBusy             Status = 3 // back off; MIT 1.20 kadmind never sends it
	UpdateNil              Status = 4 // the replica is up to date
	UpdatePermDenied       Status = 5 // the kadm5.acl lacks the "p" privilege
)

var statusNames = [...]string{
	"UPDATE_OK", "UPDATE_ERROR", "UPDATE_FULL_RESYNC_NEEDED", "UPDATE_BUSY",
	"UPDATE_NIL", "UPDATE_PERM_DENIED",
}

// String returns MIT's name of s (UPDATE_NIL), or "UPDATE_STATUS(<n>)"
// for an unknown value.
func (s Status) String() string {
	if s >= 0 && int(s) < len(statusNames) {
		return statusNames[s]
	}
	return fmt.Sprintf("UPDATE_STATUS(%d)", int32(s))
}

// Last identifies a replica's position (kdb_last_t): the serial number
// and time stamp of the last update it holds.
type Last struct {
	Sno  uint32
	Time Time
}

// IncrResult is the reply to GET_UPDATES (kdb_incr_result_t). With
// UpdateOK, Updates are the primary's updates after the replica's Last,
// and Last is the primary's last update.
type IncrResult struct {
	Last    Last
	Updates []Update
	Status  Status
}

// FullResyncResult is the reply to FULL_RESYNC and FULL_RESYNC_EXT
// (kdb_fullresync_result_t). MIT's kadmind leaves Last zero: the dump it
// then sends carries the serial number.
type FullResyncResult struct {
	Last   Last
	Status Status
}
