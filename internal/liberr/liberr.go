package liberr

// Error is an MIT library error. Text is MIT's message for it. When Err is
// set the error also matches Err (errors.Is, errors.As): a missing keytab
// entry is "Key table entry not found" to a person and KRB_AP_ERR_NOKEY to
// the protocol. Sentinel errors are *Error values compared by identity.
type Error struct {
	Text string
	Err  error
}

// Error returns MIT's text.
func (e *Error) Error() string { return e.Text }

// Unwrap returns Err.
func (e *Error) Unwrap() error { return e.Err }
