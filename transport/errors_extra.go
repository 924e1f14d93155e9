package transport

import "errors"

// ErrDown is returned by Path.Send while the medium is unavailable (a serial
// port that closed and is being reopened).
var ErrDown = errors.New("transport: path down")
