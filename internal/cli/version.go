package cli

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
)

// VersionInfo is what "failover version" prints.
type VersionInfo struct {
	Version  string `json:"version"`
	Revision string `json:"revision,omitempty"`
	Modified bool   `json:"modified,omitempty"`
	Go       string `json:"go"`
	Platform string `json:"platform"`
}

// Version reads the build information embedded by the Go toolchain.
func Version() VersionInfo {
	v := VersionInfo{Version: "(devel)", Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return v
	}
	if bi.Main.Version != "" {
		v.Version = bi.Main.Version
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			v.Revision = s.Value
		case "vcs.modified":
			v.Modified = s.Value == "true"
		}
	}
	return v
}

func (v VersionInfo) String() string {
	s := "failover " + v.Version
	if v.Revision != "" {
		rev := v.Revision
		if len(rev) > 12 {
			rev = rev[:12]
		}
		s += " (" + rev
		if v.Modified {
			s += ", modified"
		}
		s += ")"
	}
	return s + " " + v.Go + " " + v.Platform
}

func versionCmd() *command {
	return &command{
		name:     "version",
		short:    "print the version of this tool",
		long:     `Prints the module version, the VCS revision it was built from, and the Go version.`,
		examples: []string{"failover version", "failover version --json"},
		run: func(ctx context.Context, r *runner, args []string) error {
			c := r.find("version")
			fs := r.flags(c)
			fs.BoolVar(&r.json, "json", r.json, "print JSON")
			if _, err := r.parseN(c, fs, args, 0, 0); err != nil {
				return err
			}
			v := Version()
			if r.env.Version != "" {
				v.Version = r.env.Version
			}
			if r.json {
				return r.printJSON(v)
			}
			fmt.Fprintln(r.env.Stdout, v)
			return nil
		},
	}
}
