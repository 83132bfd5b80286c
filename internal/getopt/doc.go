// Package getopt parses command lines the way glibc's getopt_long does for
// MIT's kprop and kpropd, so that every command line that works with them
// works with ours: clustered flags ("-dD"), attached arguments
// ("-rEXAMPLE.COM"), options after operands (glibc permutes), "--" ending
// the options, and long options with "=value" or a separate argument.
package getopt
