package liberr_test

import (
	"errors"
	"fmt"

	"github.com/gokprop/gokprop/internal/liberr"
)

var errProtocol = errors.New("protocol code 45")

// An MIT library error prints MIT's text and matches what it stands for.
func Example() {
	errNotFound := &liberr.Error{Text: "Key table entry not found", Err: errProtocol}
	err := fmt.Errorf("keytab lookup: %w", errNotFound)
	var le *liberr.Error
	fmt.Println(errors.As(err, &le), le.Text, errors.Is(err, errProtocol))
	// Output: true Key table entry not found true
}
