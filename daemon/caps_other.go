//go:build !linux

package daemon

// effectiveCaps: capabilities are Linux's; Run fails elsewhere anyway.
func effectiveCaps() (func(bit int) bool, error) {
	return func(int) bool { return true }, nil
}
