package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"regexp"
	"strings"

	"github.com/failover-ha/failover/daemon/client"
)

// dial makes a client for the daemon the common flags name: the local
// socket, or --host with --key-file.
func (r *runner) dial() (*client.Client, error) {
	opts := []client.Option{client.WithTimeout(r.timeout)}
	target := r.socket
	if r.host != "" {
		if r.keyFile == "" {
			return nil, usageErrorf("failover: --host %s needs --key-file (the cluster key)", r.host)
		}
		key, err := readKey(r.keyFile)
		if err != nil {
			return nil, err
		}
		opts = append(opts, client.WithKey(key))
		target = r.host
	} else if !strings.Contains(target, "/") {
		// A bare file name is a socket in the current directory, not a
		// host:port.
		target = "./" + target
	}
	c, err := client.Dial(target, opts...)
	if err != nil {
		return nil, usageErrorf("failover: %v", err)
	}
	return c, nil
}

// readKey reads the cluster key file as the daemon does (the send key of a
// "<id> <hex secret> [send]" file).
func readKey(path string) ([]byte, error) {
	key, err := client.LoadKey(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil, usageErrorf("failover: --key-file %s: no such file: give the cluster's key file (key_file in failover.toml)", path)
	case errors.Is(err, os.ErrPermission):
		return nil, usageErrorf("failover: --key-file %s: permission denied: try sudo", path)
	case err != nil:
		return nil, usageErrorf("failover: --key-file %s: %s", path, strings.TrimPrefix(err.Error(), "client: "))
	}
	return key, nil
}

// reOn finds the address in a client error ("GET /v1/status on ADDR: ...").
var reOn = regexp.MustCompile(` on (\S+): `)

// plainError turns an error into the one line an operator should read. The
// daemon not running is always the client's plain sentence, never a socket
// error.
func plainError(err error) string {
	var nr *client.NotRunningError
	if errors.As(err, &nr) {
		return nr.Error()
	}
	if errors.Is(err, client.ErrNotRunning) {
		return client.ErrNotRunning.Error()
	}
	var ne net.Error
	if (errors.As(err, &ne) && ne.Timeout()) || errors.Is(err, context.DeadlineExceeded) {
		where := ""
		if m := reOn.FindStringSubmatch(err.Error()); m != nil {
			where = " at " + m[1]
		}
		return "failover: failoverd" + where + " did not answer in time: it is stopped, hung, overloaded or unreachable"
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return fmt.Sprintf("failover: cannot resolve %q: %s (give --host as addr:port, like 198.18.1.1:7406)", dns.Name, dns.Err)
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		var addr string
		if op.Addr != nil {
			addr = " " + op.Addr.String()
		}
		msg := fmt.Sprintf("failover: cannot reach failoverd at%s: %v", addr, op.Err)
		if errors.Is(err, os.ErrPermission) {
			msg += " (the control socket is root's: try sudo)"
		}
		return msg
	}
	var ae *client.APIError
	if errors.As(err, &ae) {
		if errors.Is(err, client.ErrUnknownService) {
			return fmt.Sprintf("failover: %s: \"failover status\" lists the services", ae.Message)
		}
		switch ae.Code {
		case http.StatusUnauthorized:
			return fmt.Sprintf("failover: the daemon refused the request's signature (%s): --key-file must be the cluster's key file", ae.Message)
		case http.StatusForbidden:
			return fmt.Sprintf("failover: the daemon refused: %s: run this command on the daemon's host", ae.Message)
		}
		return fmt.Sprintf("failover: the daemon refused: %s", ae.Message)
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "failover") {
		msg = "failover: " + msg
	}
	return msg
}

func (r *runner) printJSON(v any) error {
	enc := json.NewEncoder(r.env.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func failCmd() *command {
	return &command{
		name:   "fail",
		args:   "SERVICE",
		short:  "hand a service away from this host now (the original's ADDRESS fail)",
		common: true,
		long: `Forces SERVICE to the fail state on this host: it releases the address and
the next host in priority takes it over at once, without waiting for a
deadtime. The service stays failed here until "failover recover SERVICE".`,
		examples: []string{"failover fail web", "failover --socket /run/failover-lab/h1.sock fail web"},
		run: func(ctx context.Context, r *runner, args []string) error {
			return r.serviceOp(ctx, "fail", args)
		},
	}
}

func recoverCmd() *command {
	return &command{
		name:   "recover",
		args:   "SERVICE",
		short:  "make a failed service eligible on this host again",
		common: true,
		long: `Returns SERVICE to the recover state on this host. If this host has the
highest priority and failback is on, it reclaims the address (reclaim, then
up) and the current holder goes back to recover.`,
		examples: []string{"failover recover web"},
		run: func(ctx context.Context, r *runner, args []string) error {
			return r.serviceOp(ctx, "recover", args)
		},
	}
}

func (r *runner) serviceOp(ctx context.Context, op string, args []string) error {
	c := r.find(op)
	fs := r.flags(c)
	pos, err := r.parseN(c, fs, args, 1, 1)
	if err != nil {
		return err
	}
	cl, err := r.dial()
	if err != nil {
		return err
	}
	defer cl.Close()
	var svc *client.Service
	if op == "fail" {
		svc, err = cl.Fail(ctx, pos[0])
	} else {
		svc, err = cl.Recover(ctx, pos[0])
	}
	if err != nil {
		return err
	}
	if r.json {
		return r.printJSON(svc)
	}
	owner := svc.Owner
	if owner == "" {
		owner = "nobody"
	}
	fmt.Fprintf(r.env.Stdout, "%s: %s here (owner %s)", svc.Name, svc.State, owner)
	if svc.Reason != "" {
		fmt.Fprintf(r.env.Stdout, ": %s", svc.Reason)
	}
	fmt.Fprintln(r.env.Stdout)
	return nil
}

func logLevelCmd() *command {
	return &command{
		name:   "log-level",
		args:   "LEVEL",
		short:  "change the daemon's log level at run time (debug, info, warn, error)",
		common: true,
		long: `Sets the running daemon's log level without a restart. LEVEL is debug,
info, warn or error. The level is not saved: a restart uses the config's.`,
		examples: []string{"failover log-level debug", "failover log-level info"},
		run: func(ctx context.Context, r *runner, args []string) error {
			c := r.find("log-level")
			fs := r.flags(c)
			pos, err := r.parseN(c, fs, args, 1, 1)
			if err != nil {
				return err
			}
			level := strings.ToLower(pos[0])
			switch level {
			case "debug", "info", "warn", "error":
			default:
				return usageErrorf("failover log-level: %q is not a level (debug, info, warn, error)", pos[0])
			}
			cl, err := r.dial()
			if err != nil {
				return err
			}
			defer cl.Close()
			got, err := cl.SetLogLevel(ctx, level)
			if err != nil {
				return err
			}
			if r.json {
				return r.printJSON(client.LogLevel{Level: got})
			}
			fmt.Fprintf(r.env.Stdout, "log level is now %s\n", got)
			return nil
		},
	}
}
