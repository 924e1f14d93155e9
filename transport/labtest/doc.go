// Package labtest holds the transport's privileged integration tests: two
// hosts of an internal/lab rack with eth0, eth1 and a serial cable. It has
// no non-test code.
package labtest
