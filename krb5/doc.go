// Package krb5 is the Kerberos vocabulary the module's packages share:
// principal names as MIT parses and prints them, encryption types with
// MIT's names and the facts of the module's one enctype table, and the
// protocol error codes with the texts MIT prints for them.
//
// It does no networking and no cryptography of its own, so a program that
// only reads dumps (package dumpfmt) can use it without linking a KDC
// client. The protocol is in package krbauth, the MIT configuration in
// krbconf, the KDC client in krbkdc.
package krb5
