package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/failover-ha/failover/transport"
)

// CheckKeyFile checks the key file c names the way failoverd will use it:
// present, readable, in the key file format, and readable by its owner only
// (mode 0600 or stricter: anyone who can read the key can forge heartbeats).
// file is the config file, for the message. It returns nil, or a *Problem
// naming key_file and what to do. With insecure_no_auth there is nothing to
// check: failoverd then runs without a usable key (and says so).
func CheckKeyFile(file string, c *Config) error {
	if c.KeyFile == "" || c.InsecureNoAuth {
		return nil
	}
	line := 0
	if b, err := os.ReadFile(file); err == nil {
		line = indexKeys(b).lookup("key_file")
	}
	bad := func(format string, a ...any) error {
		return &Problem{File: file, Line: line, Key: "key_file", What: fmt.Sprintf(format, a...)}
	}
	st, err := os.Stat(c.KeyFile)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return bad("%s does not exist: create it (see README, Key) or fix the path", c.KeyFile)
	case errors.Is(err, fs.ErrPermission):
		return bad("%s: permission denied: run as root or as the key file's owner", c.KeyFile)
	case err != nil:
		return bad("%s: %v", c.KeyFile, err)
	case !st.Mode().IsRegular():
		return bad("%s is not a regular file", c.KeyFile)
	case st.Mode().Perm()&0o077 != 0:
		return bad("%s is readable or writable by others (mode %04o): chmod 600 %s", c.KeyFile, st.Mode().Perm(), c.KeyFile)
	}
	if _, err := transport.LoadKeyFile(c.KeyFile); err != nil {
		if errors.Is(err, fs.ErrPermission) {
			return bad("%s: permission denied: run as root or as the key file's owner", c.KeyFile)
		}
		// LoadKeyFile names the file and line of each problem.
		msg := strings.ReplaceAll(err.Error(), "transport: ", "")
		return bad("%s", strings.ReplaceAll(msg, "\n", "; "))
	}
	return nil
}
