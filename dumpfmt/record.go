package dumpfmt

// Record is one line of a dump after the header: a *Principal or a
// *Policy.
type Record interface {
	// RecordName returns the principal or policy name as written.
	RecordName() string
	isRecord()
}

// TLData is one tagged-data item of a principal or policy, kept as raw
// bytes so that it is rewritten exactly. The TL* helpers decode the types
// MIT defines.
type TLData struct {
	Type     int16
	Contents []byte
}

// KeyData is one key of a principal as MIT stores it (krb5_key_data).
type KeyData struct {
	// Version is the number of (type, contents) pairs: 1 for a key with
	// the default salt, 2 when a salt type and salt follow.
	Version int16
	// Kvno is the key version number.
	Kvno uint16
	// Enctype is the key's encryption type (key_data_type[0]).
	Enctype int16
	// Key is key_data_contents[0]: the key's length as a 2-byte
	// little-endian number followed by the key encrypted in the master key.
	// See Keyring.DecryptKey.
	Key []byte
	// SaltType and Salt are key_data_type[1] and key_data_contents[1]; they
	// are present only when Version is 2.
	SaltType int16
	Salt     []byte
}

// Principal is a "princ" record. Field names follow MIT's krb5_db_entry;
// numbers keep the signedness with which kdb5_util prints them so that a
// rewrite is byte-identical.
type Principal struct {
	// Name is the principal name as written (MIT's krb5_unparse_name form:
	// components separated by '/', then '@' and the realm, with '\'
	// escapes). ParsedName splits it.
	Name string
	// BaseLength is the entry's "len" field; MIT always writes 38.
	BaseLength int16
	// Attributes is the KRB5_KDB_* flag word.
	Attributes       int32
	MaxLife          int32
	MaxRenewableLife int32
	// Expiration and PasswordExpiration are POSIX times; 0 means never.
	Expiration         uint32
	PasswordExpiration uint32
	// LastSuccess and LastFailed are the times of the last successful and
	// failed pre-authentication; FailAuthCount is the failure counter. iprop
	// dumps write them as 0.
	LastSuccess   uint32
	LastFailed    uint32
	FailAuthCount int32
	TLData        []TLData
	KeyData       []KeyData
	// EData is the entry's extra data (e_data), normally empty.
	EData []byte
}

// PolicyForm is the layout of a policy line.
type PolicyForm int

const (
	// PolicyFormB7: name and six numbers (load_dump versions 4 and 5,
	// iprop).
	PolicyFormB7 PolicyForm = iota + 1
	// PolicyFormR18 adds the three lockout numbers (version 6; also
	// accepted in version 7 and ipropx 1 dumps).
	PolicyFormR18
	// PolicyFormR111 adds attributes, lifetimes, allowed key/salt types and
	// tl-data (version 7, ipropx 1).
	PolicyFormR111
)

// Policy is a "policy" record, MIT's osa_policy_ent_rec.
type Policy struct {
	// Name is the policy name; MIT's loader reads it as one
	// whitespace-free word.
	Name              string
	PwMinLife         int32
	PwMaxLife         int32
	PwMinLength       int32
	PwMinClasses      int32
	PwHistoryNum      int32
	PolicyRefcnt      int32 // obsolete reference count; MIT writes 0
	PwMaxFail         int32 // PolicyFormR18 and later
	PwFailcntInterval int32
	PwLockoutDuration int32
	Attributes        int32 // PolicyFormR111 only
	MaxLife           int32
	MaxRenewableLife  int32
	// AllowedKeysalts is the comma-separated key/salt list, "" for none
	// (written "-").
	AllowedKeysalts string
	TLData          []TLData
	// Form is the line layout the record was read in, and is written in.
	// Zero means the dump format's own layout.
	Form PolicyForm
}

// RecordName returns the principal name as written.
func (p *Principal) RecordName() string { return p.Name }

// RecordName returns the policy name.
func (p *Policy) RecordName() string { return p.Name }

func (*Principal) isRecord() {}
func (*Policy) isRecord()    {}

// Clone returns a deep copy of p, for keeping a record read by a Reader
// with ReuseRecord set.
func (p *Principal) Clone() *Principal {
	c := *p
	c.TLData = cloneTL(p.TLData)
	c.KeyData = make([]KeyData, len(p.KeyData))
	for i, k := range p.KeyData {
		k.Key = cloneBytes(k.Key)
		k.Salt = cloneBytes(k.Salt)
		c.KeyData[i] = k
	}
	c.EData = cloneBytes(p.EData)
	return &c
}

// Clone returns a deep copy of p.
func (p *Policy) Clone() *Policy {
	c := *p
	c.TLData = cloneTL(p.TLData)
	return &c
}

func cloneTL(in []TLData) []TLData {
	if in == nil {
		return nil
	}
	out := make([]TLData, len(in))
	for i, t := range in {
		out[i] = TLData{Type: t.Type, Contents: cloneBytes(t.Contents)}
	}
	return out
}

func cloneBytes(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte(nil), b...)
}

// FindTL returns the contents of the first tl-data of the given type.
func (p *Principal) FindTL(typ int16) ([]byte, bool) { return findTL(p.TLData, typ) }

func findTL(tl []TLData, typ int16) ([]byte, bool) {
	for _, t := range tl {
		if t.Type == typ {
			return t.Contents, true
		}
	}
	return nil, false
}
