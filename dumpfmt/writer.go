package dumpfmt

import (
	"bufio"
	"fmt"
	"io"
)

// Writer writes a dump in MIT's kdb5_util dump format: the exact inverse of
// Reader. It refuses records the format cannot carry rather than dropping
// data.
type Writer struct {
	w       *bufio.Writer
	hdr     Header
	started bool
	buf     []byte
	err     error
}

// NewWriter returns a Writer that writes a dump with header h to w. The
// header is written with the first record, or by Flush.
func NewWriter(w io.Writer, h Header) *Writer {
	return &Writer{w: bufio.NewWriterSize(w, 64<<10), hdr: h}
}

// Write writes one record, a *Principal or a *Policy.
func (w *Writer) Write(rec Record) error {
	switch r := rec.(type) {
	case *Principal:
		return w.WritePrincipal(r)
	case *Policy:
		return w.WritePolicy(r)
	}
	return fmt.Errorf("dumpfmt: unknown record type %T", rec)
}

func (w *Writer) start() error {
	if w.err != nil {
		return w.err
	}
	if w.started {
		return nil
	}
	w.started = true
	b, err := w.hdr.appendHeader(w.buf[:0])
	if err != nil {
		w.err = err
		return err
	}
	_, w.err = w.w.Write(b)
	return w.err
}

// WritePrincipal writes a "princ" line.
func (w *Writer) WritePrincipal(p *Principal) error {
	if err := w.start(); err != nil {
		return err
	}
	b, err := AppendPrincipal(w.buf[:0], p)
	if err != nil {
		return err
	}
	w.buf = b
	_, w.err = w.w.Write(b)
	return w.err
}

// WritePolicy writes a "policy" line in p.Form, or in the format's own
// layout when p.Form is zero.
func (w *Writer) WritePolicy(p *Policy) error {
	if err := w.start(); err != nil {
		return err
	}
	b, err := w.hdr.AppendPolicy(w.buf[:0], p)
	if err != nil {
		return err
	}
	w.buf = b
	_, w.err = w.w.Write(b)
	return w.err
}

// Flush writes the header if nothing was written yet, and any buffered
// data to the underlying writer.
func (w *Writer) Flush() error {
	if err := w.start(); err != nil {
		return err
	}
	w.err = w.w.Flush()
	return w.err
}

// AppendPrincipal appends p as a "princ" line, with its newline, in the
// layout shared by every dump format. It fails when p holds values MIT's
// loader cannot read back: a name without a realm or with white space
// other than escapes, contents longer than 65535 bytes, more than 32767
// tl-data or keys, a key data version other than 1 or 2.
func AppendPrincipal(b []byte, p *Principal) ([]byte, error) {
	if err := checkName([]byte(p.Name)); err != nil {
		return b, fmt.Errorf("principal %q: %w", p.Name, err)
	}
	for i := 0; i < len(p.Name); i++ {
		if p.Name[i] == '\n' {
			return b, fmt.Errorf("principal %q: %w: raw newline", p.Name, ErrNotRepresentable)
		}
	}
	if p.BaseLength < 0 || len(p.TLData) > 1<<15-1 || len(p.KeyData) > 1<<15-1 || len(p.EData) > 1<<15-1 {
		return b, fmt.Errorf("principal %q: %w: negative length or too many items", p.Name, ErrNotRepresentable)
	}
	b = append(b, "princ\t"...)
	b = appendInt(b, int64(p.BaseLength))
	b = append(b, '\t')
	b = appendInt(b, int64(len(p.Name)))
	b = append(b, '\t')
	b = appendInt(b, int64(len(p.TLData)))
	b = append(b, '\t')
	b = appendInt(b, int64(len(p.KeyData)))
	b = append(b, '\t')
	b = appendInt(b, int64(len(p.EData)))
	b = append(b, '\t')
	b = append(b, p.Name...)
	b = append(b, '\t')
	b = appendInt(b, int64(p.Attributes))
	b = append(b, '\t')
	b = appendInt(b, int64(p.MaxLife))
	b = append(b, '\t')
	b = appendInt(b, int64(p.MaxRenewableLife))
	b = append(b, '\t')
	b = appendUint(b, uint64(p.Expiration))
	b = append(b, '\t')
	b = appendUint(b, uint64(p.PasswordExpiration))
	b = append(b, '\t')
	b = appendUint(b, uint64(p.LastSuccess))
	b = append(b, '\t')
	b = appendUint(b, uint64(p.LastFailed))
	b = append(b, '\t')
	b = appendInt(b, int64(p.FailAuthCount))
	var err error
	if b, err = appendTL(b, p.TLData); err != nil {
		return b, fmt.Errorf("principal %q: %w", p.Name, err)
	}
	b = append(b, '\t')
	for i := range p.KeyData {
		k := &p.KeyData[i]
		if k.Version != 1 && k.Version != 2 {
			return b, fmt.Errorf("principal %q: key-data[%d]: %w: version %d", p.Name, i, ErrNotRepresentable, k.Version)
		}
		if len(k.Key) > 1<<16-1 || len(k.Salt) > 1<<16-1 {
			return b, fmt.Errorf("principal %q: key-data[%d]: %w: contents too long", p.Name, i, ErrNotRepresentable)
		}
		if k.Version == 1 && (k.SaltType != 0 || len(k.Salt) != 0) {
			return b, fmt.Errorf("principal %q: key-data[%d]: %w: version 1 key with a salt", p.Name, i, ErrNotRepresentable)
		}
		b = appendInt(b, int64(k.Version))
		b = append(b, '\t')
		b = appendInt(b, int64(k.Kvno))
		b = append(b, '\t')
		b = appendInt(b, int64(k.Enctype))
		b = append(b, '\t')
		b = appendInt(b, int64(len(k.Key)))
		b = append(b, '\t')
		b = appendHex(b, k.Key)
		b = append(b, '\t')
		if k.Version == 2 {
			b = appendInt(b, int64(k.SaltType))
			b = append(b, '\t')
			b = appendInt(b, int64(len(k.Salt)))
			b = append(b, '\t')
			b = appendHex(b, k.Salt)
			b = append(b, '\t')
		}
	}
	b = appendHex(b, p.EData)
	return append(b, ';', '\n'), nil
}

func appendTL(b []byte, tl []TLData) ([]byte, error) {
	for _, t := range tl {
		if len(t.Contents) > 1<<16-1 {
			return b, fmt.Errorf("%w: tl-data type %d longer than 65535 bytes", ErrNotRepresentable, t.Type)
		}
		b = append(b, '\t')
		b = appendInt(b, int64(t.Type))
		b = append(b, '\t')
		b = appendInt(b, int64(len(t.Contents)))
		b = append(b, '\t')
		b = appendHex(b, t.Contents)
	}
	return b, nil
}

// AppendPolicy appends p as a "policy" line, with its newline, in p.Form
// or, when that is zero, in the layout MIT writes for h's format. It fails
// when the layout is not one this format carries, or when p has non-zero
// fields the layout has no place for.
func (h Header) AppendPolicy(b []byte, p *Policy) ([]byte, error) {
	def, acc1, acc2 := h.policyForms()
	form := p.Form
	if form == 0 {
		form = def
	}
	if form != acc1 && form != acc2 {
		return b, fmt.Errorf("policy %q: %w: layout %d in format %v", p.Name, ErrNotRepresentable, form, h.Format)
	}
	if err := checkPolicyName([]byte(p.Name)); err != nil {
		return b, fmt.Errorf("policy %q: %w", p.Name, err)
	}
	if form < PolicyFormR18 && (p.PwMaxFail != 0 || p.PwFailcntInterval != 0 || p.PwLockoutDuration != 0) {
		return b, fmt.Errorf("policy %q: %w: lockout settings need format 6 or later", p.Name, ErrNotRepresentable)
	}
	if form < PolicyFormR111 && (p.Attributes != 0 || p.MaxLife != 0 || p.MaxRenewableLife != 0 || p.AllowedKeysalts != "" || len(p.TLData) != 0) {
		return b, fmt.Errorf("policy %q: %w: attributes, lifetimes, key/salts and tl-data need format 7", p.Name, ErrNotRepresentable)
	}
	b = append(b, "policy\t"...)
	b = append(b, p.Name...)
	nums := [...]int32{p.PwMinLife, p.PwMaxLife, p.PwMinLength, p.PwMinClasses, p.PwHistoryNum, p.PolicyRefcnt,
		p.PwMaxFail, p.PwFailcntInterval, p.PwLockoutDuration, p.Attributes, p.MaxLife, p.MaxRenewableLife}
	n := 6
	switch form {
	case PolicyFormR18:
		n = 9
	case PolicyFormR111:
		n = 12
	}
	for _, v := range nums[:n] {
		b = append(b, '\t')
		b = appendInt(b, int64(v))
	}
	if form == PolicyFormR111 {
		b = append(b, '\t')
		if p.AllowedKeysalts == "" {
			b = append(b, '-')
		} else {
			if p.AllowedKeysalts == "-" {
				return b, fmt.Errorf("policy %q: %w: allowed key/salt list \"-\" reads back as none", p.Name, ErrNotRepresentable)
			}
			if err := checkKeysalts([]byte(p.AllowedKeysalts)); err != nil {
				return b, fmt.Errorf("policy %q: %w", p.Name, err)
			}
			b = append(b, p.AllowedKeysalts...)
		}
		if len(p.TLData) > 1<<15-1 {
			return b, fmt.Errorf("policy %q: %w: too many tl-data", p.Name, ErrNotRepresentable)
		}
		b = append(b, '\t')
		b = appendInt(b, int64(len(p.TLData)))
		var err error
		if b, err = appendTL(b, p.TLData); err != nil {
			return b, fmt.Errorf("policy %q: %w", p.Name, err)
		}
	}
	return append(b, '\n'), nil
}
