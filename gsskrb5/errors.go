package gsskrb5

// Status is a failure of the GSS-API Kerberos mechanism. Its text is
// MIT's message for the GSS major status (or, for a wrong-direction
// token, for the mechanism's minor status); errors.Is matches a Status
// against the broader one it belongs to, so that ErrBadDirection also
// matches ErrBadMIC, as MIT reports it with GSS_S_BAD_SIG.
type Status struct {
	Text string
	Err  error // the broader status, or nil
}

// Error returns MIT's text.
func (s *Status) Error() string { return "gsskrb5: " + s.Text }

// Unwrap returns the broader status.
func (s *Status) Unwrap() error { return s.Err }

// The statuses a context reports; compare with errors.Is.
var (
	// ErrDefectiveToken: a token that does not parse (GSS_S_DEFECTIVE_TOKEN).
	ErrDefectiveToken error = &Status{Text: "A token was invalid"}
	// ErrBadMIC: a checksum or integrity check failed, or a token was
	// protected with the wrong key (GSS_S_BAD_SIG).
	ErrBadMIC error = &Status{Text: "A token had an invalid Message Integrity Check (MIC)"}
	// ErrBadDirection: a token claims to come from our own side, a
	// reflection (MIT's G_BAD_DIRECTION, under GSS_S_BAD_SIG).
	ErrBadDirection error = &Status{Text: "Packet was replayed in wrong direction", Err: ErrBadMIC}
	// ErrDuplicateToken: an authentic token seen before (GSS_S_DUPLICATE_TOKEN).
	ErrDuplicateToken error = &Status{Text: "The token was a duplicate of an earlier token"}
	// ErrOldToken: an authentic token too old for the replay window
	// (GSS_S_OLD_TOKEN).
	ErrOldToken error = &Status{Text: "The token's validity period has expired"}
	// ErrUnseqToken: with sequencing, an authentic token older than one
	// already seen (GSS_S_UNSEQ_TOKEN).
	ErrUnseqToken error = &Status{Text: "A later token has already been processed"}
	// ErrGapToken: with sequencing, an authentic token that skips some
	// (GSS_S_GAP_TOKEN).
	ErrGapToken error = &Status{Text: "An expected per-message token was not received"}
	// ErrNoContext: the context is not established, or failed
	// (GSS_S_NO_CONTEXT).
	ErrNoContext error = &Status{Text: "No context has been established"}
	// ErrContextEstablished: InitSecContext called on an established
	// context (MIT's KG_CONTEXT_ESTABLISHED).
	ErrContextEstablished error = &Status{Text: "Context is already fully established"}
)
