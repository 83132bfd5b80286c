// Package filelock takes the whole-file locks MIT krb5 takes
// (krb5_lock_file): open-file-description fcntl locks, which conflict with
// MIT's own locks on the same file, falling back to flock where the kernel
// lacks them.
package filelock
