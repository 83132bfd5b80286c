package kcrypto

import (
	"bytes"
	"io"
	"testing"
)

// pipelinedEnctypes are the implemented enctypes whose cipher is
// Pipelined.
func pipelinedEnctypes(t testing.TB) []int32 {
	var ids []int32
	for _, id := range implementedEnctypes() {
		c, err := Lookup(id).NewCipher(make([]byte, Lookup(id).KeyLen), 13)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := c.(Pipelined); ok {
			ids = append(ids, id)
		}
	}
	return ids
}

// TestPipelineMatchesSeal: sealing through EncryptNext and a Worker's Tag
// (out of place, the tag computed on another Worker) gives exactly the
// bytes of Seal with the same confounders, the reference decrypts them,
// and Workers open them in any order from the states NextState computes.
func TestPipelineMatchesSeal(t *testing.T) {
	sizes := []int{1, 15, 16, 17, 31, 32, 33, 100, 32768 + 40, 32769 + 40, 5, 8}
	ids := pipelinedEnctypes(t)
	if len(ids) < 5 {
		t.Fatalf("only %d pipelined enctypes", len(ids))
	}
	for _, id := range ids {
		t.Run(name(id), func(t *testing.T) {
			spec := Lookup(id)
			key := make([]byte, spec.KeyLen)
			io.ReadFull(detRand(uint64(id)), key)
			serial, _ := spec.NewCipher(key, 13)
			mc, _ := spec.NewCipher(key, 13)
			p := mc.(Pipelined)
			serial.Reset()
			p.Reset()
			sealW, openW := p.NewWorker(), []Worker{p.NewWorker(), p.NewWorker()}
			r1, r2 := detRand(5), detRand(5)
			var ref refState
			var cts [][]byte
			var befores []State
			for i, n := range sizes {
				plain := make([]byte, n)
				io.ReadFull(detRand(uint64(i)), plain)
				want := sealRaw(t, serial, plain, r1, true)

				// The pipeline's buffers: plaintext and frame apart.
				pt := make([]byte, p.SealLen(n)-p.TagLen())
				if _, err := io.ReadFull(r2, pt[:p.PrefixLen()]); err != nil {
					t.Fatal(err)
				}
				copy(pt[p.PrefixLen():], plain)
				got := make([]byte, p.SealLen(n))
				body, tag := got[:len(pt)], got[len(pt):]
				if p.TagOverPlaintext() {
					sealW.Tag(tag, State{}, pt, nil)
				}
				before := p.EncryptNext(body, pt)
				if !p.TagOverPlaintext() {
					sealW.Tag(tag, before, nil, body)
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("message %d (%d bytes): pipeline sealed\n%x\nSeal gave\n%x", i+1, n, got, want)
				}
				der, err := refOpen(t, id, key, &ref, got)
				if err != nil || !bytes.Equal(der[:n], plain) {
					t.Fatalf("message %d: reference open: %v", i+1, err)
				}
				cts = append(cts, got)
				befores = append(befores, before)
			}
			// States from the ciphertexts alone, then open back to front,
			// alternating Workers, one message in place.
			var st State
			for i, ct := range cts {
				if st != befores[i] {
					t.Fatalf("NextState chain: message %d starts from %x, want %x", i+1, st, befores[i])
				}
				var err error
				if st, err = p.NextState(st, ct); err != nil {
					t.Fatal(err)
				}
			}
			if st != p.ChainState() {
				t.Fatalf("state after the run %x, sealer has %x", st, p.ChainState())
			}
			for i := len(cts) - 1; i >= 0; i-- {
				ct := bytes.Clone(cts[i])
				out := make([]byte, len(ct))
				if i == 3 {
					out = ct // in place
				}
				der, err := openW[i%2].Open(out, ct, befores[i])
				if err != nil {
					t.Fatalf("message %d: %v", i+1, err)
				}
				plain := make([]byte, sizes[i])
				io.ReadFull(detRand(uint64(i)), plain)
				if !bytes.Equal(der[:sizes[i]], plain) {
					t.Fatalf("message %d: plaintext mismatch", i+1)
				}
			}
			// Negative controls: a wrong state or a flipped bit fails.
			if _, err := openW[0].Open(make([]byte, len(cts[2])), cts[2], befores[1]); err != ErrIntegrity {
				t.Errorf("message 3 from message 2's state: %v, want ErrIntegrity", err)
			}
			bad := bytes.Clone(cts[8])
			bad[len(bad)/2] ^= 1
			if _, err := openW[1].Open(make([]byte, len(bad)), bad, befores[8]); err != ErrIntegrity {
				t.Errorf("flipped bit: %v, want ErrIntegrity", err)
			}
			// SetChainState continues a session from a pipeline's state.
			serial2, _ := spec.NewCipher(key, 13)
			serial2.(Pipelined).SetChainState(befores[5])
			if der, err := serial2.Open(make([]byte, len(cts[5])), cts[5], true); err != nil || !bytes.Equal(der[:sizes[5]], mustPlain(5, sizes[5])) {
				t.Errorf("Open after SetChainState: %v", err)
			}
			if _, err := p.NextState(State{}, make([]byte, p.TagLen()+1)); err != ErrBadMsize {
				t.Errorf("NextState of a short ciphertext: %v, want ErrBadMsize", err)
			}
		})
	}
}

func mustPlain(i, n int) []byte {
	plain := make([]byte, n)
	io.ReadFull(detRand(uint64(i)), plain)
	return plain
}
