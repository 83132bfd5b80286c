// Package liberr is the error type of MIT krb5 library failures that have
// no Kerberos protocol code of their own (com_err codes such as
// KRB5_BAD_ENCTYPE or KRB5_KT_NOTFOUND): the error's text is MIT's
// error_message() text, so that programs print what MIT prints.
//
// Every package of the module that reports such failures builds them with
// this one type, which internal/comerr recognises. It is not for protocol
// error codes (krb5.ErrorCode) or for errors of our own wording.
package liberr
