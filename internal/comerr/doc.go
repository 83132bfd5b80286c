// Package comerr prints errors the way MIT krb5 programs do through
// com_err: "WHOAMI: MESSAGE CONTEXT", where MESSAGE is the library's text
// for the error code (strerror for system errors, the Kerberos error
// table for protocol codes), so scripts that match MIT's output keep
// working with ours.
package comerr
