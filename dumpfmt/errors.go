package dumpfmt

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error the Reader, Validate and the Writer return
// for a malformed dump is a *ParseError whose Err unwraps to one of these,
// so callers can test the kind with errors.Is.
var (
	// ErrHeader: the first line is not a dump header this package knows
	// (MIT's load_dump versions 4 to 7, "iprop", "ipropx"). The old
	// OpenV*Secure format, which MIT no longer loads, is reported as this.
	ErrHeader = errors.New("unrecognised dump header")
	// ErrSyntax: a field is not what the format puts there (not a decimal
	// number, an unknown record type, a missing separator).
	ErrSyntax = errors.New("syntax error")
	// ErrRange: a number does not fit the field MIT stores it in.
	ErrRange = errors.New("value out of range")
	// ErrHex: contents are not lower-case hexadecimal as MIT writes them.
	ErrHex = errors.New("bad hex")
	// ErrLength: a length field disagrees with the contents that follow.
	ErrLength = errors.New("length disagrees with contents")
	// ErrCount: a count field disagrees with the number of items present.
	ErrCount = errors.New("count disagrees with fields")
	// ErrName: a principal or policy name is malformed, or its length field
	// disagrees with it.
	ErrName = errors.New("bad name")
	// ErrTruncated: the input ends inside a record (the last line has no
	// newline) or before the header.
	ErrTruncated = errors.New("truncated dump")
	// ErrTrailing: unexpected bytes after the last field of a record.
	ErrTrailing = errors.New("trailing garbage")
	// ErrLineTooLong: a line exceeds the MaxLineSize of the Reader,
	// Validate or the Validator.
	ErrLineTooLong = errors.New("line too long")
	// ErrNoMaster: the dump holds no K/M master-key principal (or no
	// krbtgt/REALM@REALM for the master key's realm).
	ErrNoMaster = errors.New("missing required principal")
	// ErrDuplicate: a principal or policy appears twice.
	ErrDuplicate = errors.New("duplicate record")
	// ErrNotRepresentable: the Writer was given a record the dump's format
	// cannot carry without losing data.
	ErrNotRepresentable = errors.New("record not representable in this format")
)

// ParseError reports a problem at a position in a dump. Its message has
// the form "FILE:LINE: field NAME: what is wrong"; the field part is left
// out when the problem is not about one field.
type ParseError struct {
	File  string // name of the dump as given to the Reader ("-" if unset)
	Line  int    // 1-based line number; 0 when the error is about the whole file
	Field string // field name, e.g. "name", "tl-data[2].contents"; may be empty
	Err   error  // unwraps to one of the sentinel errors
}

func (e *ParseError) Error() string {
	file := e.File
	if file == "" {
		file = "-"
	}
	pos := file
	if e.Line > 0 {
		pos = fmt.Sprintf("%s:%d", file, e.Line)
	}
	if e.Field != "" {
		return fmt.Sprintf("%s: field %s: %v", pos, e.Field, e.Err)
	}
	return fmt.Sprintf("%s: %v", pos, e.Err)
}

// Unwrap returns the underlying error.
func (e *ParseError) Unwrap() error { return e.Err }
