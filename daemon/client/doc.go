// Package client is the Go client of failoverd's control API, and the home
// of the API's JSON types.
//
// The API is HTTP/1.1 with JSON bodies, on a unix socket (default
// /run/failover.sock, mode 0600) or, read-only, on an optional TCP listener
// whose requests carry X-Failover-Time (unix seconds) and X-Failover-Auth
// (hex HMAC-SHA256 with the cluster key over method+" "+path+" "+seconds):
//
//	GET  /v1/status                   -> Status
//	GET  /v1/ping                     -> Pong (cheap; for stress tests)
//	POST /v1/services/{name}/fail     -> Service (after the command)
//	POST /v1/services/{name}/recover  -> Service
//	PUT  /v1/log-level {"level":"debug"} -> LogLevel
//
// Errors come back as a non-2xx status with ErrorBody. When nothing answers,
// every call returns an error matching ErrNotRunning whose message reads
// "failoverd is not running: cannot reach /run/failover.sock".
//
// A Client is safe for concurrent use.
package client
