package main

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"flag"
	"io"

	"github.com/gokprop/gokprop/dumpfmt"
	"github.com/gokprop/gokprop/krb5"
)

// forEach reads the single file argument of a command and calls fn for
// every record. It reports read and parse errors itself and returns the
// exit status.
func forEach(e *env, name string, reuse bool, fn func(h dumpfmt.Header, rec dumpfmt.Record, line int) error) int {
	f, err := e.open(name)
	if err != nil {
		return e.errorf("%v", err)
	}
	defer f.Close()
	r := dumpfmt.NewReader(f)
	r.FileName = name
	r.ReuseRecord = reuse
	h, err := r.Header()
	if err != nil {
		e.stderr.Write([]byte(err.Error() + "\n"))
		return 1
	}
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err == nil {
			err = fn(h, rec, r.Line())
		}
		if err != nil {
			e.stderr.Write([]byte(err.Error() + "\n"))
			return 1
		}
	}
	return 0
}

func oneFile(e *env, fs *flag.FlagSet, args []string) (string, bool) {
	fs.SetOutput(e.stderr)
	if err := fs.Parse(args); err != nil {
		return "", false
	}
	if fs.NArg() != 1 {
		e.errorf("%s: need exactly one file", fs.Name())
		return "", false
	}
	return fs.Arg(0), true
}

func cmdCat(e *env, args []string) int {
	fs := flag.NewFlagSet("cat", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print one JSON object per record instead of the dump")
	name, ok := oneFile(e, fs, args)
	if !ok {
		return 2
	}
	out := bufio.NewWriterSize(e.stdout, 64<<10)
	defer out.Flush()
	if *asJSON {
		enc := json.NewEncoder(out)
		return forEach(e, name, true, func(h dumpfmt.Header, rec dumpfmt.Record, line int) error {
			return enc.Encode(jsonRecord(rec))
		})
	}
	var w *dumpfmt.Writer
	status := forEach(e, name, true, func(h dumpfmt.Header, rec dumpfmt.Record, line int) error {
		if w == nil {
			w = dumpfmt.NewWriter(out, h)
		}
		return w.Write(rec)
	})
	if w != nil {
		if err := w.Flush(); err != nil && status == 0 {
			return e.errorf("%v", err)
		}
	}
	return status
}

type jsonTL struct {
	Type     int16  `json:"type"`
	Name     string `json:"name"`
	Contents string `json:"contents"`
}

type jsonKey struct {
	Version  int16  `json:"version"`
	Kvno     uint16 `json:"kvno"`
	Enctype  string `json:"enctype"`
	Key      string `json:"key"`
	SaltType *int16 `json:"salt_type,omitempty"`
	Salt     string `json:"salt,omitempty"`
}

func jsonTLs(tl []dumpfmt.TLData) []jsonTL {
	out := []jsonTL{}
	for _, t := range tl {
		out = append(out, jsonTL{t.Type, dumpfmt.TLName(t.Type), hex.EncodeToString(t.Contents)})
	}
	return out
}

// jsonRecord is the machine-readable form of a record: every field, with
// byte strings in hex and the tl-data MIT defines decoded alongside.
func jsonRecord(rec dumpfmt.Record) any {
	switch r := rec.(type) {
	case *dumpfmt.Principal:
		m := map[string]any{
			"type": "principal", "name": r.Name, "len": r.BaseLength,
			"attributes": r.Attributes, "max_life": r.MaxLife, "max_renewable_life": r.MaxRenewableLife,
			"expiration": r.Expiration, "pw_expiration": r.PasswordExpiration,
			"last_success": r.LastSuccess, "last_failed": r.LastFailed, "fail_auth_count": r.FailAuthCount,
			"tl_data": jsonTLs(r.TLData), "e_data": hex.EncodeToString(r.EData),
		}
		if pn, err := r.ParsedName(); err == nil {
			m["components"], m["realm"] = pn.Name.NameString, pn.Realm
		}
		keys := []jsonKey{}
		for _, k := range r.KeyData {
			jk := jsonKey{Version: k.Version, Kvno: k.Kvno, Enctype: krb5.Enctype(k.Enctype).String(), Key: hex.EncodeToString(k.Key)}
			if k.Version == 2 {
				st := k.SaltType
				jk.SaltType, jk.Salt = &st, hex.EncodeToString(k.Salt)
			}
			keys = append(keys, jk)
		}
		m["key_data"] = keys
		if pol, ok, err := r.PolicyName(); err == nil && ok {
			m["policy"] = pol
		}
		if t, ok, err := r.LastPwdChange(); err == nil && ok {
			m["last_pwd_change"] = t
		}
		if t, by, ok, err := r.ModPrinc(); err == nil && ok {
			m["mod_time"], m["mod_princ"] = t, by
		}
		if sa, err := r.StringAttrs(); err == nil && len(sa) > 0 {
			attrs := map[string]string{}
			for _, a := range sa {
				attrs[a.Key] = a.Value
			}
			m["string_attrs"] = attrs
		}
		return m
	case *dumpfmt.Policy:
		return map[string]any{
			"type": "policy", "name": r.Name, "pw_min_life": r.PwMinLife, "pw_max_life": r.PwMaxLife,
			"pw_min_length": r.PwMinLength, "pw_min_classes": r.PwMinClasses, "pw_history_num": r.PwHistoryNum,
			"policy_refcnt": r.PolicyRefcnt, "pw_max_fail": r.PwMaxFail, "pw_failcnt_interval": r.PwFailcntInterval,
			"pw_lockout_duration": r.PwLockoutDuration, "attributes": r.Attributes, "max_life": r.MaxLife,
			"max_renewable_life": r.MaxRenewableLife, "allowed_keysalts": r.AllowedKeysalts,
			"tl_data": jsonTLs(r.TLData),
		}
	}
	return nil
}

func cmdList(e *env, args []string) int {
	fs := flag.NewFlagSet("list", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print a JSON array of names")
	name, ok := oneFile(e, fs, args)
	if !ok {
		return 2
	}
	out := bufio.NewWriterSize(e.stdout, 64<<10)
	defer out.Flush()
	first := true
	if *asJSON {
		out.WriteString("[")
	}
	status := forEach(e, name, true, func(h dumpfmt.Header, rec dumpfmt.Record, line int) error {
		p, ok := rec.(*dumpfmt.Principal)
		if !ok {
			return nil
		}
		if *asJSON {
			if !first {
				out.WriteString(",")
			}
			b, _ := json.Marshal(p.Name)
			out.WriteString("\n  ")
			out.Write(b)
		} else {
			out.WriteString(p.Name)
			out.WriteByte('\n')
		}
		first = false
		return nil
	})
	if *asJSON {
		out.WriteString("\n]\n")
	}
	return status
}
