package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// testVersion is what the tests build the binaries and the package as;
// "failover version" in the installed root must print it.
const testVersion = "0.0.1-test"

// TestDocsFromTheHelp builds the three commands, reads their --help the way
// the package builder does and checks that every command the help lists is
// in the man pages and the completions, and that the bash completion
// completes as a user would type.
func TestDocsFromTheHelp(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	bin := t.TempDir()
	if err := goBuild(ctx, "..", bin, runtime.GOARCH, testVersion); err != nil {
		t.Fatal(err)
	}
	fo, err := readCommand(ctx, filepath.Join(bin, "failover"), "failover")
	if err != nil {
		t.Fatal(err)
	}
	top, err := helpOf(ctx, filepath.Join(bin, "failover"), "--help")
	if err != nil {
		t.Fatal(err)
	}
	// Every command of "failover --help", and every lab subcommand.
	var listed []string
	for _, it := range commandList(top, "failover") {
		listed = append(listed, it.words[0])
	}
	if got := subNames(fo); !slices.Equal(got, listed) || !slices.Contains(got, "setup") {
		t.Errorf("commands %v, want the help's list %v (with setup)", got, listed)
	}
	var lab *cmdDoc
	for _, s := range fo.subs {
		if s.path[1] == "lab" {
			lab = s
		}
	}
	if lab == nil || strings.Join(subNames(lab), " ") != "up status crash thaw cut plug heal down demo bench drill scale sweep" {
		t.Errorf("lab subcommands: %v", lab)
	}
	page := manPage(fo, "1", testVersion)
	for _, s := range fo.subs {
		if !strings.Contains(page, ".SS \"failover "+roffText(s.path[1])) {
			t.Errorf("failover.1 has no section for %s", s.path[1])
		}
	}
	for _, want := range []string{".TH FAILOVER 1 \"\" \"failover " + testVersion + "\"", ".SH NAME\nfailover \\- talks to failoverd",
		`\fB\-\-vip\fR \fIaddr[/prefix]\fR`, ".SS \"failover lab up [flags]\""} {
		if !strings.Contains(page, want) {
			t.Errorf("failover.1 lacks %q", want)
		}
	}
	lintMan(t, "failover.1", page)
	for _, prog := range []string{"failoverd", "hwtest"} {
		c, err := readCommand(ctx, filepath.Join(bin, prog), prog)
		if err != nil {
			t.Fatal(err)
		}
		sec := map[string]string{"failoverd": "8", "hwtest": "1"}[prog]
		lintMan(t, prog+"."+sec, manPage(c, sec, testVersion))
		if prog == "hwtest" && strings.Join(subNames(c), " ") != "serial nic" {
			t.Errorf("hwtest commands %v, want serial nic", subNames(c))
		}
	}

	// The bash completion, sourced into a real bash.
	comp := filepath.Join(t.TempDir(), "failover")
	if err := os.WriteFile(comp, []byte(bashCompletion(fo)), 0o644); err != nil {
		t.Fatal(err)
	}
	files := t.TempDir()
	os.WriteFile(filepath.Join(files, "cluster.toml"), nil, 0o644)
	for _, tt := range []struct{ line, want string }{
		{"failover ", "status watch fail recover log-level stress check-config setup lab version"},
		{"failover st", "status stress"},
		{"failover se", "setup"},
		{"failover lab c", "crash cut"},
		{"failover status --j", "--json"},
		{"failover -socket /run/x.sock st", "status stress"},
		{"failover setup --pe", "--peer"},
		{"failover lab up --h", "--hosts"},
		{"failover check-config " + files + "/clu", files + "/cluster.toml"},
		{"failover setup --out " + files + "/clu", ""}, // --out is a directory
		{"failover status --html=" + files + "/cl", "--html=" + files + "/cluster.toml"},
		{"failover status --timeout ", ""},
	} {
		if got := bashComplete(t, comp, "_failover", tt.line); got != tt.want {
			t.Errorf("%q<TAB> = %q, want %q", tt.line, got, tt.want)
		}
	}
	if zsh, err := exec.LookPath("zsh"); err == nil {
		zc := filepath.Join(t.TempDir(), "_failover")
		os.WriteFile(zc, []byte(zshCompletion(fo)), 0o644)
		if out, err := exec.Command(zsh, "-n", zc).CombinedOutput(); err != nil {
			t.Errorf("zsh -n _failover: %v\n%s", err, out)
		}
	} else {
		t.Log("zsh not installed: the zsh completion's syntax is not checked")
	}
}

// bashComplete runs the completion function fn for line in bash and returns
// the candidates, space-separated.
func bashComplete(t *testing.T, file, fn, line string) string {
	t.Helper()
	script := `source "$1"; read -ra COMP_WORDS <<<"$2"; [[ $2 == *" " ]] && COMP_WORDS+=(""); COMP_CWORD=$((${#COMP_WORDS[@]}-1)); ` +
		fn + `; echo "${COMPREPLY[*]}"`
	out, err := exec.Command("bash", "-c", script, "bash", file, line).CombinedOutput()
	if err != nil {
		t.Fatalf("bash completion of %q: %v\n%s", line, err, out)
	}
	return strings.TrimSpace(string(out))
}

// lintMan has groff check a page for warnings, where groff is installed.
func lintMan(t *testing.T, name, page string) {
	t.Helper()
	groff, err := exec.LookPath("groff")
	if err != nil {
		t.Logf("groff not installed: %s is not linted", name)
		return
	}
	cmd := exec.Command(groff, "-man", "-ww", "-z", "-Tutf8")
	cmd.Stdin = strings.NewReader(page)
	cmd.Env = []string{"LC_ALL=C", "PATH=/usr/bin:/bin"}
	if out, err := cmd.CombinedOutput(); err != nil || len(out) > 0 {
		t.Errorf("groff -ww %s: %v\n%s", name, err, out)
	}
}
