package dumpfmt_test

import (
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/gokprop/gokprop/dumpfmt"
)

func Example() {
	const dump = "kdb5_util load_dump version 7\n" +
		"princ\t38\t12\t1\t1\t0\tK/M@TEST.ORG\t0\t0\t0\t0\t0\t0\t0\t0\t8\t2\t0100\t1\t1\t18\t4\tdeadbeef\t-1;\n" +
		"princ\t38\t24\t0\t0\t0\tkrbtgt/TEST.ORG@TEST.ORG\t0\t0\t0\t0\t0\t0\t0\t0\t-1;\n" +
		"policy\tdefault\t0\t0\t1\t1\t1\t0\t3\t60\t120\t0\t0\t0\t-\t0\n"

	r := dumpfmt.NewReader(strings.NewReader(dump))
	r.FileName = "example.dump"
	h, _ := r.Header()
	fmt.Println("format", h.Format)
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Println(err)
			return
		}
		switch rec := rec.(type) {
		case *dumpfmt.Principal:
			fmt.Printf("principal %s: %d keys\n", rec.Name, len(rec.KeyData))
		case *dumpfmt.Policy:
			fmt.Printf("policy %s: lockout after %d failures\n", rec.Name, rec.PwMaxFail)
		}
	}

	s, err := dumpfmt.Validate(strings.NewReader(dump), dumpfmt.ValidateOptions{FileName: "example.dump"})
	fmt.Println(s.Principals, s.Policies, err)

	_, err = dumpfmt.Validate(strings.NewReader(strings.Replace(dump, "\t4\tdeadbeef", "\t5\tdeadbeef", 1)),
		dumpfmt.ValidateOptions{FileName: "example.dump"})
	fmt.Println(err)
	// Output:
	// format 7 (r1.11)
	// principal K/M@TEST.ORG: 1 keys
	// principal krbtgt/TEST.ORG@TEST.ORG: 0 keys
	// policy default: lockout after 3 failures
	// 2 1 <nil>
	// example.dump:2: field key-data[0].contents[0]: length disagrees with contents: length 5 but 8 hex digits
}

// A Validator checks a dump while it is being received, in pieces cut
// anywhere; here it sits beside the file being written, and the pieces
// are 16 bytes.
func ExampleValidator() {
	const dump = "kdb5_util load_dump version 7\n" +
		"princ\t38\t12\t1\t1\t0\tK/M@TEST.ORG\t0\t0\t0\t0\t0\t0\t0\t0\t8\t2\t0100\t1\t1\t18\t4\tdeadbeef\t-1;\n" +
		"princ\t38\t24\t0\t0\t0\tkrbtgt/TEST.ORG@TEST.ORG\t0\t0\t0\t0\t0\t0\t0\t0\t-1;\n" +
		"policy\tdefault\t0\t0\t1\t1\t1\t0\t3\t60\t120\t0\t0\t0\t-\t0\n"

	receive := func(data string) (dumpfmt.Summary, error) {
		var file strings.Builder // stands in for the temporary file
		v := dumpfmt.NewValidator(dumpfmt.ValidateOptions{FileName: "from_master"})
		w := io.MultiWriter(&file, v)
		for len(data) > 0 {
			n := min(16, len(data))
			if _, err := io.WriteString(w, data[:n]); err != nil {
				return dumpfmt.Summary{}, err // refuse the dump now
			}
			data = data[n:]
		}
		return v.Close() // only a valid dump may be installed
	}

	s, err := receive(dump)
	fmt.Println(s.Principals, s.Policies, s.Realm, err)
	_, err = receive(strings.Replace(dump, "deadbeef", "deadbeeZ", 1))
	fmt.Println(err)
	_, err = receive(dump[:100])
	fmt.Println(err)
	// Output:
	// 2 1 TEST.ORG <nil>
	// from_master:2: field key-data[0].contents[0]: bad hex: byte 'Z' at hex offset 7
	// from_master:2: truncated dump: last line has no newline (70 bytes)
}

// Pieces of a dump prechecked concurrently, one goroutine each, then
// written in order: the Validator's verdict is the one Write would give.
func ExampleValidator_WritePrechecked() {
	var dump strings.Builder
	dump.WriteString("kdb5_util load_dump version 7\n")
	for i := range 1000 {
		name := fmt.Sprintf("user%04d@TEST.ORG", i)
		fmt.Fprintf(&dump, "princ\t38\t%d\t0\t0\t0\t%s\t0\t0\t0\t0\t0\t0\t0\t0\t-1;\n", len(name), name)
	}
	dump.WriteString("princ\t38\t12\t1\t1\t0\tK/M@TEST.ORG\t0\t0\t0\t0\t0\t0\t0\t0\t8\t2\t0100\t1\t1\t18\t4\tdeadbeef\t-1;\n")
	dump.WriteString("princ\t38\t24\t0\t0\t0\tkrbtgt/TEST.ORG@TEST.ORG\t0\t0\t0\t0\t0\t0\t0\t0\t-1;\n")
	data := []byte(dump.String())

	var pieces [][]byte
	for p := data; len(p) > 0; p = p[min(4096, len(p)):] {
		pieces = append(pieces, p[:min(4096, len(p))])
	}
	prechecks := make([]dumpfmt.Precheck, len(pieces))
	var wg sync.WaitGroup
	for i := range pieces {
		wg.Add(1)
		go func() {
			defer wg.Done()
			prechecks[i].Run(pieces[i])
		}()
	}
	wg.Wait()

	v := dumpfmt.NewValidator(dumpfmt.ValidateOptions{Duplicates: dumpfmt.DuplicatesSorted})
	for i, p := range pieces {
		if _, err := v.WritePrechecked(p, &prechecks[i]); err != nil {
			fmt.Println(err)
			return
		}
	}
	s, err := v.Close()
	fmt.Println(s.Principals, s.Realm, err)
	// Output:
	// 1002 TEST.ORG <nil>
}
