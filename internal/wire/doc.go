// Package wire holds the kprop protocol's constants and its database-size
// codec, shared by the kprop and kpropd packages.
package wire
