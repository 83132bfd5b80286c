// Package kpropd is the receiving side of MIT Kerberos full database
// propagation: what MIT's kpropd does on a replica KDC, as a server value
// that can be embedded in any program.
//
// A Server authenticates each connection with recvauth (mutual
// authentication from the replica's keytab), asks its Authorizer whether
// the client may propagate (ACLFile implements MIT's kpropd.acl rules),
// receives the dump into File+".temp" under an exclusive lock, renames it
// over File only once it is complete, runs its Loader (KDB5Util runs
// "kdb5_util load", as MIT kpropd does) and only then acknowledges. Any
// failure is sent to the client as a KRB-ERROR and leaves File as it was:
// a partial, tampered or unverified dump never replaces it.
//
// Serve handles a listener (standalone mode) and ServeConn a single
// connection (inetd mode); Shutdown and Close stop the server. Each
// transfer runs under a timeout covering the transfer and the load
// (MIT's iprop_resync_timeout) and authentication under a shorter one, so
// no connection can block the daemon. Flags, kdc.conf and signals belong
// to the kpropd command, not to this package.
package kpropd
