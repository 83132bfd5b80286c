package interop

import (
	"testing"

	"github.com/jcmturner/gokrb5/v8/keytab"
)

type keytabEntry struct {
	KVNO uint32
	Key  struct {
		KeyType  int32
		KeyValue []byte
	}
}

// parseKeytab reads a keytab file's entries.
func parseKeytab(t *testing.T, raw []byte) []keytabEntry {
	t.Helper()
	kt := keytab.New()
	if err := kt.Unmarshal(raw); err != nil {
		t.Fatal(err)
	}
	var out []keytabEntry
	for _, e := range kt.Entries {
		var k keytabEntry
		k.KVNO = e.KVNO
		k.Key.KeyType, k.Key.KeyValue = e.Key.KeyType, e.Key.KeyValue
		out = append(out, k)
	}
	return out
}
