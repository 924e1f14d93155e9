package main

import (
	"slices"
	"strings"
	"testing"
)

const sampleHelp = `Usage: prog [--socket PATH | --key-file FILE] COMMAND [ARGS]

prog does things. It does them well.

Commands:
  status        show the state
  check-config  validate a file

Examples:
  prog status
`

const sampleCmdHelp = `Usage: prog check-config [flags] FILE

Checks FILE.

  grp up [--n 2]     run it
  grp down           stop it

Flags:
  -json
    	print JSON
  -out dir
    	write into dir
    	(two lines)
  -key-file file
    	the key file
`

func TestCommandList(t *testing.T) {
	var got []string
	for _, it := range commandList(sampleHelp, "prog") {
		got = append(got, strings.Join(it.words, " ")+"="+it.short)
	}
	if want := []string{"status=show the state", "check-config=validate a file"}; !slices.Equal(got, want) {
		t.Errorf("commandList = %q, want %q", got, want)
	}
	got = nil
	for _, it := range commandList(sampleCmdHelp, "grp") {
		got = append(got, strings.Join(it.words, " ")+"="+it.short)
	}
	if want := []string{"up=run it", "down=stop it"}; !slices.Equal(got, want) {
		t.Errorf("commandList(grp) = %q, want %q", got, want)
	}
}

func TestParseFlags(t *testing.T) {
	got := parseFlags(sampleCmdHelp)
	want := []flagDoc{{"json", "", "print JSON"}, {"out", "dir", "write into dir (two lines)"}, {"key-file", "file", "the key file"}}
	if !slices.Equal(got, want) {
		t.Errorf("parseFlags = %+v, want %+v", got, want)
	}
	kinds := []string{}
	for _, f := range got {
		kinds = append(kinds, f.valueKind())
	}
	if want := []string{"", "dir", "file"}; !slices.Equal(kinds, want) {
		t.Errorf("kinds %q, want %q", kinds, want)
	}
	if u := usageFlags(sampleHelp, nil); len(u) != 2 || u[0] != (flagDoc{name: "socket", arg: "path"}) || u[1] != (flagDoc{name: "key-file", arg: "file"}) {
		t.Errorf("usageFlags = %+v", u)
	}
	if !usageTakesFiles(sampleCmdHelp) || usageTakesFiles(sampleHelp) {
		t.Error("usageTakesFiles: FILE after [flags] is a file argument; --key-file FILE is not")
	}
}

func TestSummary(t *testing.T) {
	if got := summary(&cmdDoc{path: []string{"prog"}, help: sampleHelp}); got != "does things" {
		t.Errorf("summary = %q", got)
	}
}

func TestRoff(t *testing.T) {
	for in, want := range map[string]string{
		`--flag`:        `\-\-flag`,
		`a\b`:           `a\eb`,
		"TX→RX":         `TX\[u2192]RX`,
		".starts a dot": `\&.starts a dot`,
		"'quote":        `\&'quote`,
	} {
		if got := roffLine(in); got != want {
			t.Errorf("roffLine(%q) = %q, want %q", in, got, want)
		}
	}
	got := roffHelp("Para one\nline two.\n\nExamples:\n  prog -x\n\nFlags:\n  -json\n    \tprint JSON\n")
	want := "Para one\nline two.\n.PP\n.B Examples:\n.RS 4\n.nf\nprog \\-x\n.fi\n.RE\n.PP\n.B Flags:\n.TP\n\\fB\\-\\-json\\fR\nprint JSON\n"
	if got != want {
		t.Errorf("roffHelp =\n%s\nwant\n%s", got, want)
	}
}
