package interop

import "testing"

// TestMITToMITControl is the control cell row of the interop matrix: MIT
// kprop to MIT kpropd in every cell (every session enctype, and des3 host
// keys with an aes session key). If this fails, the harness
// or the machine is broken, not gokprop.
func TestMITToMITControl(t *testing.T) {
	runMatrix(t, []sender{mitSender(t)}, []receiver{mitReceiver(t)}, matrixCells(t))
}
