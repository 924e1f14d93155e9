// Package e2e holds the end-to-end tests: real failoverd and failover
// binaries (built once by TestMain with go build), real kernel paths in a
// virtual rack (internal/lab via internal/rig), and a client probing the
// VIP every 10 ms. They are the original Failover's acceptance tests plus the
// cases the issue adds (three hosts, one or two NICs lost, SIGTERM, SIGKILL
// and restart, invalid config), and the faults of real machines
// (faults_test.go): the service NIC set down and up inside the master, a
// freeze longer than the VIP's lifetime, a flapping service NIC, a USB
// serial adapter replugged as another device, line noise, one-way paths and
// forged frames; and a deadtime that differs between the hosts, named in
// status (mismatch_test.go).
//
// Tests named TestPrivileged... need root or an unprivileged user namespace
// (lab.Main re-executes the test binary in one); they never skip as root.
// No test asserts a duration: every wait is a deadline-bounded poll, and the
// outages the client saw are only logged (go test -v shows them). The
// measurements live in "failover lab bench" and docs/benchmarks.md.
package e2e
