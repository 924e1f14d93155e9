package main

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
)

// cmdDoc is one command or subcommand as its --help describes it.
type cmdDoc struct {
	path  []string // "failover", "lab", "up"
	short string   // its line in the parent's list
	help  string   // its whole --help text
	flags []flagDoc
	files bool // its arguments are files (FILE in the usage line)
	subs  []*cmdDoc
}

// flagDoc is one flag of a command.
type flagDoc struct {
	name string // without dashes
	arg  string // the value's name ("file", "duration"); "" for a boolean
	desc string
}

// name is the command's words after the program: "lab up".
func (c *cmdDoc) name() string { return strings.Join(c.path[1:], " ") }

// valueKind says what the flag's value is, for completion: "file", "dir"
// or "" (anything else, or no value).
func (f flagDoc) valueKind() string {
	switch strings.ToLower(f.arg) {
	case "file", "path":
		return "file"
	case "dir":
		return "dir"
	case "string":
		// hwtest's flags: "failover.toml of this host", "serial device, e.g. /dev/ttyS0".
		if strings.Contains(f.desc, "/") || strings.Contains(f.desc, ".toml") || strings.Contains(f.desc, " file") {
			return "file"
		}
	}
	return ""
}

// docFile is one generated file of the package.
type docFile struct {
	dst  string // where it is installed
	data []byte
	gzip bool // compress (man pages)
}

// makeDocs runs the binaries in bin with --help and makes the man pages and
// completions of all three.
func makeDocs(ctx context.Context, bin, version string) ([]docFile, error) {
	var out []docFile
	for _, b := range binaries() {
		root, err := readCommand(ctx, filepath.Join(bin, b.name), b.name)
		if err != nil {
			return nil, err
		}
		sec := "1"
		if b.name == "failoverd" {
			sec = "8"
		}
		out = append(out,
			docFile{dst: "/usr/share/man/man" + sec + "/" + b.name + "." + sec + ".gz", data: []byte(manPage(root, sec, version)), gzip: true},
			docFile{dst: "/usr/share/bash-completion/completions/" + b.name, data: []byte(bashCompletion(root))},
			docFile{dst: "/usr/share/zsh/vendor-completions/_" + b.name, data: []byte(zshCompletion(root))},
		)
	}
	return out, nil
}

// readCommand builds the command tree of program prog from its --help and
// its subcommands' --help.
func readCommand(ctx context.Context, bin, prog string) (*cmdDoc, error) {
	help, err := helpOf(ctx, bin, "--help")
	if err != nil {
		return nil, err
	}
	root := &cmdDoc{path: []string{prog}, help: help, flags: parseFlags(help), files: usageTakesFiles(help)}
	root.flags = append(root.flags, usageFlags(help, root.flags)...)
	list := commandList(help, prog)
	for _, it := range list {
		parent := root
		for i, w := range it.words {
			var c *cmdDoc
			for _, s := range parent.subs {
				if s.path[len(s.path)-1] == w {
					c = s
				}
			}
			if c == nil {
				c = &cmdDoc{path: append(append([]string{}, parent.path...), w)}
				parent.subs = append(parent.subs, c)
			}
			if i == len(it.words)-1 && c.short == "" {
				c.short = it.short
			}
			parent = c
		}
	}
	if err := readSubs(ctx, bin, root); err != nil {
		return nil, err
	}
	// The top usage names the common flags; their words are in the
	// commands' own help.
	for i, f := range root.flags {
		if f.desc == "" {
			if d := findFlag(root, f.name); d != nil {
				root.flags[i].desc, root.flags[i].arg = d.desc, d.arg
			}
		}
	}
	return root, nil
}

// readSubs fills in the help of each subcommand of c (recursively), and
// finds subcommands listed in a command's own help ("  lab up ...").
func readSubs(ctx context.Context, bin string, c *cmdDoc) error {
	for _, s := range c.subs {
		h, err := helpOf(ctx, bin, append(s.path[1:], "--help")...)
		if err != nil {
			return err
		}
		s.help, s.flags, s.files = h, parseFlags(h), usageTakesFiles(h)
		if len(s.subs) == 0 {
			for _, it := range commandList(h, s.path[len(s.path)-1]) {
				if len(it.words) != 1 {
					continue
				}
				// Only a word whose --help is its own usage is a subcommand.
				sub := append(append([]string{}, s.path[1:]...), it.words[0])
				sh, err := helpOf(ctx, bin, append(sub, "--help")...)
				if err != nil || !strings.HasPrefix(sh, "Usage: "+strings.Join(append([]string{s.path[0]}, sub...), " ")) {
					continue
				}
				s.subs = append(s.subs, &cmdDoc{path: append(append([]string{}, s.path...), it.words[0]), short: it.short})
			}
		}
		if err := readSubs(ctx, bin, s); err != nil {
			return err
		}
	}
	return nil
}

func findFlag(c *cmdDoc, name string) *flagDoc {
	for _, s := range c.subs {
		for i := range s.flags {
			if s.flags[i].name == name && s.flags[i].desc != "" {
				return &s.flags[i]
			}
		}
		if f := findFlag(s, name); f != nil {
			return f
		}
	}
	return nil
}

type listItem struct {
	words []string
	short string
}

var (
	reListLine = regexp.MustCompile(`^  (\S+)\s{2,}(\S.*)$`)
	reFlagLine = regexp.MustCompile(`^  -(\S+)(?: (.+))?$`)
	reFlagDesc = regexp.MustCompile(`^    \t(.*)$`)
	reUsageArg = regexp.MustCompile(`\[?--([a-z][a-z0-9-]*)(?: ([A-Z][A-Z.]*))?`)
	reWord     = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)
	reFileArg  = regexp.MustCompile(`(^|[\s\[])FILE\b`)
)

// commandList finds the commands a help text lists: the lines of its
// "Commands:" section ("  status   show peers ..."), or lines that start
// with prog followed by words and a description ("  hwtest serial list   serial
// ports present", "  lab up [--hosts 2]   run the cluster").
func commandList(help, prog string) []listItem {
	var out []listItem
	seen := map[string]bool{}
	add := func(words []string, short string) {
		k := strings.Join(words, " ")
		if len(words) == 0 || seen[k] {
			return
		}
		seen[k] = true
		out = append(out, listItem{words: words, short: strings.TrimSpace(short)})
	}
	inCommands := false
	for _, l := range strings.Split(help, "\n") {
		switch {
		case l == "Commands:":
			inCommands = true
			continue
		case strings.TrimSpace(l) == "":
			inCommands = false
			continue
		}
		if inCommands {
			if m := reListLine.FindStringSubmatch(l); m != nil {
				add([]string{m[1]}, m[2])
			}
			continue
		}
		rest, ok := strings.CutPrefix(l, "  "+prog+" ")
		if !ok {
			continue
		}
		head, short, ok := strings.Cut(rest, "  ")
		if !ok {
			continue
		}
		var words []string
		for _, w := range strings.Fields(head) {
			if !reWord.MatchString(w) {
				break
			}
			words = append(words, w)
		}
		add(words, short)
	}
	return out
}

// parseFlags reads the flag list Go's flag package prints (PrintDefaults):
//
//	-name type
//	  	description
func parseFlags(help string) []flagDoc {
	var out []flagDoc
	lines := strings.Split(help, "\n")
	for i := 0; i < len(lines); i++ {
		m := reFlagLine.FindStringSubmatch(lines[i])
		if m == nil || i+1 >= len(lines) || !reFlagDesc.MatchString(lines[i+1]) {
			continue
		}
		f := flagDoc{name: m[1], arg: m[2]}
		var desc []string
		for i+1 < len(lines) {
			d := reFlagDesc.FindStringSubmatch(lines[i+1])
			if d == nil {
				break
			}
			desc = append(desc, d[1])
			i++
		}
		f.desc = strings.Join(desc, " ")
		out = append(out, f)
	}
	return out
}

// usageFlags finds the flags named in the usage line ("Usage: failover
// [--socket PATH | --host ADDR ...]") that the flag list does not have.
func usageFlags(help string, have []flagDoc) []flagDoc {
	usage, _, _ := strings.Cut(help, "\n")
	if !strings.HasPrefix(usage, "Usage:") {
		return nil
	}
	var out []flagDoc
	for _, m := range reUsageArg.FindAllStringSubmatch(usage, -1) {
		dup := false
		for _, f := range append(have, out...) {
			dup = dup || f.name == m[1]
		}
		if !dup {
			out = append(out, flagDoc{name: m[1], arg: strings.ToLower(m[2])})
		}
	}
	return out
}

// usageTakesFiles reports whether the usage line's positional arguments are
// files ("Usage: failover check-config [flags] FILE").
func usageTakesFiles(help string) bool {
	usage, _, _ := strings.Cut(help, "\n")
	usage = reUsageArg.ReplaceAllString(usage, "")
	return reFileArg.MatchString(usage)
}

// summary is the first sentence of the help's description, without the
// program's name: "keeps the cluster's virtual IPs alive on one host".
func summary(c *cmdDoc) string {
	for _, para := range strings.Split(c.help, "\n\n") {
		para = strings.Join(strings.Fields(para), " ")
		if rest, ok := strings.CutPrefix(para, c.path[0]+" "); ok {
			s, _, _ := strings.Cut(rest, ". ")
			return strings.TrimSuffix(s, ".")
		}
	}
	return fmt.Sprintf("the %s command", c.path[0])
}
