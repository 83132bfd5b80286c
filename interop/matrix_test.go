package interop

import "testing"

func goSender(t testing.TB) sender {
	return sender{name: "Go", path: goProgram(t, "github.com/gokprop/gokprop/cmd/kprop")}
}

func goReceiver(t testing.TB) receiver {
	return receiver{name: "Go", path: goProgram(t, "github.com/gokprop/gokprop/cmd/kpropd"),
		doneLine: "Database load process for full propagation completed."}
}

// TestPropagationMatrix is the interop matrix of issue 2 apart from its
// control row (TestMITToMITControl): MIT kprop to our kpropd, our kprop to
// MIT kpropd and ours to ours, for every session enctype, each cell a
// database of over 10,000 principals checked end to end (bytes received,
// replica dump equal to the primary's, session enctype used, kinit
// against a KDC serving the replica).
func TestPropagationMatrix(t *testing.T) {
	mit, gos := mitSender(t), goSender(t)
	mitd, god := mitReceiver(t), goReceiver(t)
	cells := matrixCells(t)
	runMatrix(t, []sender{mit}, []receiver{god}, cells)
	runMatrix(t, []sender{gos}, []receiver{mitd, god}, cells)
}
