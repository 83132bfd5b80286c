// Package kiprop is the replica's side of an MIT Kerberos incremental
// propagation session: credentials, connection, GSS-API and RPCSEC_GSS
// context, and the iprop calls, set up as MIT's kpropd sets them up.
//
// Dial, given a Config, gets credentials for the service
// kiprop/<admin server> — the admin server exactly as configured (kpropd
// -A, else the realm's admin_server), without its ":port" and not
// canonicalized — straight from the keytab as kiprop/<canonical local
// host>@REALM (NT-SRV-HST), in one AS exchange with no TGT (package
// krbkdc). It connects to the admin server's iprop_port, which has no
// default (ErrNoIpropPort), and makes an RPCSEC_GSS privacy context with
// a Kerberos GSS context asking for mutual authentication and replay
// detection (packages gsskrb5 and rpcsecgss), offering the default TGS
// enctypes for the acceptor's subkey as MIT's initiator does.
//
// A Session then makes the calls of a replica: GetUpdates
// (IPROP_GET_UPDATES), FullResyncExt (IPROP_FULL_RESYNC_EXT, falling back
// to IPROP_FULL_RESYNC on PROC_UNAVAIL, as kpropd does) and Null. Every
// reply's verifier MIC, sealed body and sequence number are checked. A
// failed call drops the connection and contexts, and the next call sets
// up a new session, as kpropd destroys and re-initializes its kadm5
// handle; setup failures are *SetupError. The poll loop, its backoff and
// the application of the updates are not here: they belong to the
// program that follows the primary (kpropd's iprop mode).
package kiprop
