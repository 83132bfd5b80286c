// Package kpropd is the receiving side of MIT Kerberos full database
// propagation: what MIT's kpropd does on a replica KDC, as a server value
// that can be embedded in any program.
//
// A Server authenticates each connection with recvauth (a krbauth.Conn
// with the Server's Auth config: mutual authentication from the replica's
// keytab), asks its Authorizer whether the client (a Peer) may propagate
// (ACLFile implements MIT's kpropd.acl rules), receives the dump into
// File+".temp" under an exclusive lock, lets its Verifier check it, renames
// it over File only once it is complete, runs its Loader (KDB5Util runs
// "kdb5_util load", as MIT kpropd does) and only then acknowledges. Any
// failure is sent to the client as a KRB-ERROR and leaves File as it was:
// a partial, tampered or unverified dump never replaces it. A failure is
// a *TransferError naming the Step that failed.
//
// Serve handles a listener (standalone mode) and ServeConn a single
// connection (inetd mode); Shutdown and Close stop the server. Handshakes
// run concurrently, under a short timeout, so no connection can block the
// daemon; transfers take turns, and each runs under a timeout covering the
// transfer and the load (MIT's iprop_resync_timeout). A sender that waits
// for its turn longer than that is refused as busy. ConnState reports each
// connection's progress, as http.Server's does, and Events what a metrics
// collector needs besides (the size announced, the bytes received, the
// outcome; package kpropd/metrics turns them into Prometheus metrics).
//
// The Logger receives structured records; the kpropd command words them
// as MIT kpropd does. Every record of a connection carries "peer" (the
// client's net.Addr) and the connection's context:
//
//	level  message                 attributes
//	Debug  waiting for connection  (none; see below)
//	Info   connection
//	Debug  authenticating          server (principal), appl_version
//	Debug  authenticated           client (principal), ticket_enctype, fast_data
//	Debug  waiting for turn        client (another transfer is in progress)
//	Debug  transfer started        size
//	Debug  transfer finished       bytes
//	Debug  loading                 file
//	Warn   transfer failed         step, err (a client refused by the Authorizer)
//	Error  transfer failed         step, err (any other failure)
//	Debug  connection done         ok, loaded (whether the Loader ran)
//
// "waiting for connection" is logged when Serve starts and whenever the
// last connection in progress is done while the Server is still
// listening: where MIT kpropd, which serves one connection at a time,
// prints it before each accept.
//
// A Poller is the other half of MIT kpropd in incremental propagation
// (iprop) mode: it polls the primary's kadmind through an IpropSession
// (package kiprop's Session) and applies what it sends to an IpropReplica
// (package iprop/replica's DB), beside a Server whose Loader installs the
// full resyncs ("kdb5_util load -i": KDB5Util.Iprop) and whose ConnState
// calls Poller.Poll when a connection is done.
//
// Flags, kdc.conf, syslog and signals belong to the kpropd command, not
// to this package.
package kpropd
