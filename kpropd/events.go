package kpropd

import (
	"fmt"
	"net"
)

// EventKind says what an Event reports.
type EventKind int

// The events of a connection, in order. A connection that fails before
// the client announces a size has only EventDone.
const (
	// EventStarted: the client announced the dump's size (Event.Size);
	// File+".temp" is about to receive it.
	EventStarted EventKind = iota + 1
	// EventReceived: a chunk was received (and written to File+".temp"
	// unless the dump was already found invalid); Event.Received
	// is the number of dump bytes received so far.
	EventReceived
	// EventDone: the server is done with the connection; Event.Err is
	// nil for a propagation that was loaded and acknowledged, else the
	// error ServeConn returns (a *TransferError names the Step).
	EventDone
)

var eventNames = [...]string{EventStarted: "started", EventReceived: "received", EventDone: "done"}

// String returns the kind's name ("received").
func (k EventKind) String() string {
	if k > 0 && int(k) < len(eventNames) {
		return eventNames[k]
	}
	return fmt.Sprintf("EventKind(%d)", int(k))
}

// Event reports a transfer's progress to Server.Events, for metrics and
// progress displays: what ConnState does not say (sizes, byte counts,
// the outcome).
type Event struct {
	Kind EventKind
	// Conn is the connection, as ConnState gets it.
	Conn net.Conn
	// Size is the dump size the client announced (from EventStarted on).
	Size uint64
	// Received is the number of dump bytes received so far
	// (EventReceived).
	Received uint64
	// Err is the connection's outcome (EventDone).
	Err error
}

// event reports e to s.Events, if set.
func (s *Server) event(e Event) {
	if s.Events != nil {
		s.Events(e)
	}
}
