// Package getopt parses command lines the way glibc's getopt_long does for
// MIT's kprop and kpropd, so that every command line that works with them
// works with ours: clustered flags ("-dD"), attached arguments
// ("-rEXAMPLE.COM"), options after operands (glibc permutes), "--" ending
// the options, and long options with "=value" or a separate argument.
package getopt

import (
	"fmt"
	"strings"
)

// Option is one parsed option: its name (a single letter, or the long
// name) and its argument, if it takes one.
type Option struct {
	Name string
	Arg  string
}

// Error is a command line the spec does not accept, worded as glibc's
// getopt reports it.
type Error struct{ Msg string }

func (e *Error) Error() string { return e.Msg }

// Parse parses args (without the program name) against a getopt-style
// spec ("r:f:dP:s:": a letter followed by ':' takes an argument) and a
// list of long options ("pid-file=" takes an argument). It returns the
// options in order and the operands.
func Parse(args []string, spec string, long []string) (opts []Option, operands []string, err error) {
	takes := func(c byte) (known, arg bool) {
		i := strings.IndexByte(spec, c)
		if i < 0 || c == ':' {
			return false, false
		}
		return true, i+1 < len(spec) && spec[i+1] == ':'
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return opts, append(operands, args[i+1:]...), nil
		case strings.HasPrefix(a, "--"):
			name, val, hasVal := strings.Cut(a[2:], "=")
			var match string
			var wantsArg bool
			for _, l := range long {
				ln, arg := strings.CutSuffix(l, "=")
				if ln == name {
					match, wantsArg = ln, arg
					break
				}
			}
			if match == "" {
				return nil, nil, &Error{fmt.Sprintf("unrecognized option '%s'", a)}
			}
			switch {
			case wantsArg && !hasVal:
				if i+1 == len(args) {
					return nil, nil, &Error{fmt.Sprintf("option '--%s' requires an argument", match)}
				}
				i++
				val = args[i]
			case !wantsArg && hasVal:
				return nil, nil, &Error{fmt.Sprintf("option '--%s' doesn't allow an argument", match)}
			}
			opts = append(opts, Option{Name: match, Arg: val})
		case len(a) > 1 && a[0] == '-':
			for j := 1; j < len(a); j++ {
				c := a[j]
				known, arg := takes(c)
				if !known {
					return nil, nil, &Error{fmt.Sprintf("invalid option -- '%c'", c)}
				}
				if !arg {
					opts = append(opts, Option{Name: string(c)})
					continue
				}
				if j+1 < len(a) {
					opts = append(opts, Option{Name: string(c), Arg: a[j+1:]})
				} else if i+1 < len(args) {
					i++
					opts = append(opts, Option{Name: string(c), Arg: args[i]})
				} else {
					return nil, nil, &Error{fmt.Sprintf("option requires an argument -- '%c'", c)}
				}
				break
			}
		default:
			operands = append(operands, a)
		}
	}
	return opts, operands, nil
}
