package gsskrb5

// replayWindow is how many sequence numbers before the highest one seen
// are remembered, as in MIT's g_seqstate (a 64-bit bitmap).
const replayWindow = 64

// seqState checks the sequence numbers of received tokens as MIT's
// g_seqstate_check does for RFC 4121 (64-bit) contexts: numbers are taken
// relative to the peer's initial number, the highest seen and a bitmap of
// the 64 before it are kept, and depending on the context's flags a
// repeated number (replay detection) or one out of order (sequencing) is
// refused.
type seqState struct {
	replay, sequence bool
	base             uint64 // the peer's initial sequence number
	next             uint64 // one past the highest number seen, relative to base
	seen             uint64 // bit i-1 set: next-i was seen
}

func newSeqState(base uint64, replay, sequence bool) *seqState {
	return &seqState{replay: replay, sequence: sequence, base: base}
}

// check records seq and says whether the token carrying it is acceptable.
// It is called only for tokens whose protection verified.
func (s *seqState) check(seq uint64) error {
	if !s.replay && !s.sequence {
		return nil
	}
	rel := seq - s.base
	if rel >= s.next {
		skip := rel - s.next
		if skip >= replayWindow {
			s.seen = 1
		} else {
			s.seen = s.seen<<(skip+1) | 1
		}
		s.next = rel + 1
		if skip > 0 && s.sequence {
			return ErrGapToken
		}
		return nil
	}
	back := s.next - rel
	if back > replayWindow {
		if s.sequence {
			return ErrUnseqToken
		}
		return ErrOldToken
	}
	bit := uint64(1) << (back - 1)
	if s.replay && s.seen&bit != 0 {
		return ErrDuplicateToken
	}
	s.seen |= bit
	if s.sequence {
		return ErrUnseqToken
	}
	return nil
}
