package dumpfmt

// nameSet is the duplicate set: 64-bit name hashes, each with the line it
// was first seen on. The hashes come from maphash and are uniformly
// distributed, so their bits serve directly as table indexes: the top
// byte picks one of 256 parts, the low bits a slot in that part's
// open-addressing table (linear probing; 0 marks an empty slot, and a
// name whose hash is 0 is kept aside).
//
// The parts are for growth. A part doubles when three quarters full, and
// with 256 of them a doubling rehashes a few kilobytes that fit in the
// cache, where one big table would rehash megabytes scattered over
// memory. Hashes and lines live in separate arrays: 12 bytes a slot, and
// a probe reads consecutive hashes, eight to a cache line. The set costs
// 16 to 32 bytes per name.
type nameSet struct {
	parts [256]namePart
	// zeroSeen and zeroLine record the name whose hash is 0.
	zeroSeen bool
	zeroLine int32
}

type namePart struct {
	hashes []uint64
	lines  []int32
	n      int
}

// add records h as first seen on line, or returns the line h was first
// seen on.
func (s *nameSet) add(h uint64, line int32) (first int32, dup bool) {
	if h == 0 {
		if s.zeroSeen {
			return s.zeroLine, true
		}
		s.zeroSeen, s.zeroLine = true, line
		return 0, false
	}
	p := &s.parts[h>>56]
	if 4*(p.n+1) > 3*len(p.hashes) {
		p.grow()
	}
	mask := uint64(len(p.hashes) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		switch p.hashes[i] {
		case 0:
			p.hashes[i], p.lines[i] = h, line
			p.n++
			return 0, false
		case h:
			return p.lines[i], true
		}
	}
}

func (p *namePart) grow() {
	size := 2 * len(p.hashes)
	if size == 0 {
		size = 16
	}
	old, oldLines := p.hashes, p.lines
	p.hashes, p.lines = make([]uint64, size), make([]int32, size)
	mask := uint64(size - 1)
	for j, h := range old {
		if h == 0 {
			continue
		}
		i := h & mask
		for p.hashes[i] != 0 {
			i = (i + 1) & mask
		}
		p.hashes[i], p.lines[i] = h, oldLines[j]
	}
}
