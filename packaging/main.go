// Command packaging builds the failover .deb:
//
//	go run ./packaging --version 1.2.3 --out dist/
//
// It builds failoverd, failover and hwtest (CGO_ENABLED=0, static), runs
// each with --help (and every subcommand's --help) and turns the texts into
// the man pages failoverd.8, failover.1 and hwtest.1 and into bash and zsh
// completions, and packs them with the unit failoverd.service, the
// maintainer scripts beside this file and failover.toml.example into
// dist/failover_<version>_<arch>.deb with nfpm's Go API. The binaries are
// stamped with the version ("failover version" prints it).
//
// The directory also holds the unit and the maintainer scripts (postinst,
// prerm, postrm) the package carries; deb_linux_test.go installs the
// package into a fresh root with dpkg and checks what lands where.
//
// It runs once, on one goroutine, and writes nothing but the .deb in --out
// and a staging directory under $TMPDIR that it removes. The same tree and
// version give the same man pages and completions (they carry no date).
package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/goreleaser/nfpm/v2"
	"github.com/goreleaser/nfpm/v2/deb"
	"github.com/goreleaser/nfpm/v2/files"
)

// options is one build.
type options struct {
	version    string // package and binary version, "1.2.3" or "v1.2.3"
	arch       string // GOARCH of the binaries and the package
	out        string // where the .deb goes
	root       string // the module's root directory
	maintainer string
	log        io.Writer // progress lines
}

func main() {
	fs := flag.NewFlagSet("packaging", flag.ContinueOnError)
	o := options{log: os.Stderr}
	fs.StringVar(&o.version, "version", "", "package `version`, like 1.2.3 (required)")
	fs.StringVar(&o.out, "out", "dist", "write the .deb into `dir`")
	fs.StringVar(&o.arch, "arch", runtime.GOARCH, "target `GOARCH` (amd64, arm64, ...)")
	fs.StringVar(&o.root, "root", "", "the module's root `dir` (default: found from the working directory)")
	fs.StringVar(&o.maintainer, "maintainer", defaultMaintainer, "the package's Maintainer field")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: go run ./packaging --version VERSION [--out DIR] [--arch GOARCH]\n\n"+
			"Builds failoverd, failover and hwtest, their man pages and shell completions,\n"+
			"and packs them with the systemd unit into DIR/failover_VERSION_ARCH.deb.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		os.Exit(2)
	}
	if o.version == "" || fs.NArg() > 0 {
		fs.Usage()
		os.Exit(2)
	}
	path, err := build(context.Background(), o)
	if err != nil {
		fmt.Fprintf(os.Stderr, "packaging: %v\n", err)
		os.Exit(1)
	}
	fmt.Println(path)
}

// defaultMaintainer is the Maintainer field unless --maintainer is given.
const defaultMaintainer = "failover-ha <failover-ha@users.noreply.github.com>"

// binaries are the commands the package installs, with where they go.
func binaries() []struct{ name, dir string } {
	return []struct{ name, dir string }{
		{"failoverd", "/usr/sbin"},
		{"failover", "/usr/bin"},
		{"hwtest", "/usr/bin"},
	}
}

// build makes the .deb and returns its path.
func build(ctx context.Context, o options) (string, error) {
	if o.log == nil {
		o.log = io.Discard
	}
	if o.root == "" {
		r, err := moduleRoot()
		if err != nil {
			return "", err
		}
		o.root = r
	}
	if o.arch == "" {
		o.arch = runtime.GOARCH
	}
	if o.maintainer == "" {
		o.maintainer = defaultMaintainer
	}
	stage, err := os.MkdirTemp("", "failover-pkg-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(stage)

	bin := filepath.Join(stage, "bin")
	fmt.Fprintf(o.log, "building the binaries (linux/%s, CGO_ENABLED=0)\n", o.arch)
	if err := goBuild(ctx, o.root, bin, o.arch, o.version); err != nil {
		return "", err
	}
	// The docs come from the binaries' own --help; run a host build if the
	// target's cannot run here.
	helpBin := bin
	if o.arch != runtime.GOARCH {
		helpBin = filepath.Join(stage, "hostbin")
		if err := goBuild(ctx, o.root, helpBin, runtime.GOARCH, o.version); err != nil {
			return "", err
		}
	}
	docs, err := makeDocs(ctx, helpBin, o.version)
	if err != nil {
		return "", err
	}
	var contents files.Contents
	for _, b := range binaries() {
		contents = append(contents, &files.Content{Source: filepath.Join(bin, b.name), Destination: b.dir + "/" + b.name,
			FileInfo: &files.ContentFileInfo{Mode: 0o755}})
	}
	for _, d := range docs {
		src := filepath.Join(stage, "docs", filepath.Base(d.dst))
		data := d.data
		if d.gzip {
			if data, err = gzipBytes(d.data); err != nil {
				return "", err
			}
		}
		if err := os.MkdirAll(filepath.Dir(src), 0o755); err != nil {
			return "", err
		}
		if err := os.WriteFile(src, data, 0o644); err != nil {
			return "", err
		}
		contents = append(contents, &files.Content{Source: src, Destination: d.dst, FileInfo: &files.ContentFileInfo{Mode: 0o644}})
	}
	here := filepath.Join(o.root, "packaging")
	contents = append(contents,
		&files.Content{Source: filepath.Join(here, "failoverd.service"), Destination: "/usr/lib/systemd/system/failoverd.service",
			FileInfo: &files.ContentFileInfo{Mode: 0o644}},
		// A conffile: dpkg keeps the operator's edits of it on upgrade.
		&files.Content{Source: filepath.Join(o.root, "failover.toml.example"), Destination: "/etc/failover/failover.toml.example",
			Type: files.TypeConfig, FileInfo: &files.ContentFileInfo{Mode: 0o644}},
	)

	info := nfpm.WithDefaults(&nfpm.Info{
		Name:       "failover",
		Arch:       o.arch,
		Platform:   "linux",
		Version:    o.version,
		Section:    "net",
		Priority:   "optional",
		Maintainer: o.maintainer,
		Homepage:   "https://github.com/failover-ha/failover",
		Description: "keeps virtual IP addresses alive across Linux hosts\n" +
			"failoverd sends authenticated heartbeats over every path at once (UDP on\n" +
			"each NIC, multicast and unicast, and an RS-232 null-modem cable) and moves\n" +
			"a virtual IP to the highest-priority healthy host, announcing it with\n" +
			"gratuitous ARP. failover is the operator's command (status, watch, fail,\n" +
			"recover, setup, a virtual lab); hwtest checks the cables and NICs.",
		Overridables: nfpm.Overridables{
			Contents: contents,
			Scripts: nfpm.Scripts{
				PostInstall: filepath.Join(here, "postinst"),
				PreRemove:   filepath.Join(here, "prerm"),
				PostRemove:  filepath.Join(here, "postrm"),
			},
		},
	})
	if err := nfpm.Validate(info); err != nil {
		return "", fmt.Errorf("package: %w", err)
	}
	pkg := deb.Default
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(o.out, pkg.ConventionalFileName(info))
	var buf bytes.Buffer
	if err := pkg.Package(info, &buf); err != nil {
		return "", fmt.Errorf("package: %w", err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return "", err
	}
	fmt.Fprintf(o.log, "wrote %s (%d kB)\n", path, buf.Len()/1024)
	return path, nil
}

// goBuild builds the three commands for linux/arch into dir.
func goBuild(ctx context.Context, root, dir, arch, version string) error {
	args := []string{"build", "-trimpath", "-ldflags", "-s -w -X main.version=" + version, "-o", dir + string(filepath.Separator)}
	for _, b := range binaries() {
		args = append(args, "./cmd/"+b.name)
	}
	cmd := exec.CommandContext(ctx, goTool(), args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("go build: %w\n%s", err, out)
	}
	return nil
}

// goTool is the go command on PATH (go test puts its own toolchain's
// first), else /usr/local/go's.
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return "/usr/local/go/bin/go"
}

// moduleRoot walks up from the working directory to the go.mod of the
// failover module.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.HasPrefix(b, []byte("module github.com/failover-ha/failover\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("not inside the failover module: run it from the repository (or give --root)")
		}
		dir = parent
	}
}

// gzipBytes compresses b the way Debian ships man pages: best compression,
// no name or time in the header (reproducible).
func gzipBytes(b []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	zw.ModTime = time.Time{}
	if _, err := zw.Write(b); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// helpOf runs bin with args and returns what it printed (stdout and stderr:
// failoverd prints its usage to stderr).
func helpOf(ctx context.Context, bin string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = []string{"PATH=/usr/bin:/bin", "LANG=C"}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%s %s: %w\n%s", filepath.Base(bin), strings.Join(args, " "), err, out)
	}
	return string(out), nil
}
