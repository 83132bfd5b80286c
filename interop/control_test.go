package interop

import (
	"testing"

	"github.com/gokprop/gokprop/internal/mitrealm"
)

// TestMITToMITControl is the control cell row of the interop matrix: MIT
// kprop to MIT kpropd for every session enctype. If this fails, the harness
// or the machine is broken, not gokprop.
func TestMITToMITControl(t *testing.T) {
	runMatrix(t, []sender{mitSender(t)}, []receiver{mitReceiver(t)}, mitrealm.KpropEnctypes())
}
