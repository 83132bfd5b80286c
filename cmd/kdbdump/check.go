package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/gokprop/gokprop/dumpfmt"
)

type checkResult struct {
	File       string `json:"file"`
	OK         bool   `json:"ok"`
	Principals int    `json:"principals"`
	Policies   int    `json:"policies"`
	Format     string `json:"format,omitempty"`
	Realm      string `json:"realm,omitempty"`
	Keys       int    `json:"keys_decrypted,omitempty"`
	Error      string `json:"error,omitempty"`
}

func cmdCheck(e *env, args []string) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	asJSON := fs.Bool("json", false, "print results as JSON")
	partial := fs.Bool("partial", false, "accept a dump of selected principals (no K/M or krbtgt)")
	stash := fs.String("stash", "", "verify the master key in this stash file and decrypt every key")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		return e.errorf("check: no files")
	}
	var stashKeys []dumpfmt.MasterKey
	if *stash != "" {
		var err error
		if stashKeys, err = dumpfmt.ReadStashFile(*stash); err != nil {
			return e.errorf("%v", err)
		}
	}
	status := 0
	var results []checkResult
	for _, name := range fs.Args() {
		res, err := checkOne(e, name, *partial, stashKeys)
		if err != nil {
			var pe *dumpfmt.ParseError
			if !errors.As(err, &pe) && !errors.Is(err, dumpfmt.ErrMasterKey) && !errors.Is(err, dumpfmt.ErrDecrypt) {
				// Not a verdict on the dump: the file could not be read.
				return e.errorf("%v", err)
			}
			res.Error = err.Error()
			status = 1
		}
		results = append(results, res)
		if *asJSON {
			continue
		}
		if res.OK {
			fmt.Fprintf(e.stdout, "%s: ok: %d principals, %d policies, format %s", name, res.Principals, res.Policies, res.Format)
			if stashKeys != nil {
				fmt.Fprintf(e.stdout, ", master key ok, %d keys decrypted", res.Keys)
			}
			fmt.Fprintln(e.stdout)
		} else {
			fmt.Fprintln(e.stderr, res.Error)
		}
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		enc.Encode(results)
	}
	return status
}

func checkOne(e *env, name string, partial bool, stash []dumpfmt.MasterKey) (checkResult, error) {
	res := checkResult{File: name}
	f, err := e.open(name)
	if err != nil {
		return res, err
	}
	defer f.Close()
	var in io.Reader = f
	var buf []byte
	if stash != nil && name == "-" {
		// Decryption needs K/M before the other keys; standard input can
		// be read only once, so keep it.
		if buf, err = io.ReadAll(f); err != nil {
			return res, err
		}
		in = bytes.NewReader(buf)
	}
	s, err := dumpfmt.Validate(in, dumpfmt.ValidateOptions{FileName: name, Partial: partial})
	if err != nil {
		return res, err
	}
	res.Principals, res.Policies, res.Format, res.Realm = s.Principals, s.Policies, s.Header.Format.String(), s.Realm
	if stash != nil {
		reopen := func() (io.ReadCloser, error) {
			if buf != nil {
				return io.NopCloser(bytes.NewReader(buf)), nil
			}
			return e.open(name)
		}
		if res.Keys, err = decryptAll(reopen, name, stash); err != nil {
			return res, err
		}
	}
	res.OK = true
	return res, nil
}

// decryptAll finds K/M, verifies the stash against it, then decrypts
// every key in a second pass.
func decryptAll(reopen func() (io.ReadCloser, error), name string, stash []dumpfmt.MasterKey) (int, error) {
	var kr *dumpfmt.Keyring
	n := 0
	for pass := 0; pass < 2; pass++ {
		f, err := reopen()
		if err != nil {
			return n, err
		}
		defer f.Close()
		r := dumpfmt.NewReader(f)
		r.FileName = name
		r.ReuseRecord = true
		for {
			rec, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				return n, err
			}
			p, ok := rec.(*dumpfmt.Principal)
			if !ok {
				continue
			}
			if pass == 0 {
				if p.IsMaster() {
					if kr, err = dumpfmt.NewKeyring(p, stash); err != nil {
						return n, fmt.Errorf("%s: %w", name, err)
					}
					break
				}
				continue
			}
			for i := range p.KeyData {
				if _, err := kr.DecryptKey(p, &p.KeyData[i]); err != nil {
					return n, fmt.Errorf("%s:%d: principal %s key-data[%d] (kvno %d): %w", name, r.Line(), p.Name, i, p.KeyData[i].Kvno, err)
				}
				n++
			}
		}
		if kr == nil {
			return n, fmt.Errorf("%s: %w: no K/M principal to verify the master key against", name, dumpfmt.ErrMasterKey)
		}
	}
	return n, nil
}
