package main

import (
	"fmt"
	"strings"
)

// manPage renders the man page of the command tree c in section sec: NAME
// and SYNOPSIS from its help's first sentence and usage, DESCRIPTION (and
// OPTIONS) from its --help, a COMMANDS section with every subcommand's
// --help, then FILES and SEE ALSO.
func manPage(c *cmdDoc, sec, version string) string {
	var b strings.Builder
	prog := c.path[0]
	fmt.Fprintf(&b, ".\\\" %s(%s), generated from \"%s --help\" by go run ./packaging. Do not edit.\n", prog, sec, prog)
	fmt.Fprintf(&b, ".TH %s %s \"\" %s %s\n", strings.ToUpper(prog), sec, quote("failover "+version), quote("failover manual"))
	fmt.Fprintf(&b, ".SH NAME\n%s \\- %s\n", prog, roffText(summary(c)))
	usage, body := splitUsage(c.help)
	b.WriteString(".SH SYNOPSIS\n.nf\n")
	for _, u := range usage {
		b.WriteString(roffLine(u) + "\n")
	}
	b.WriteString(".fi\n.SH DESCRIPTION\n")
	b.WriteString(roffHelp(body))
	if len(c.subs) > 0 {
		b.WriteString(".SH COMMANDS\n")
		writeCommands(&b, c)
	}
	b.WriteString(".SH FILES\n")
	for _, f := range [][2]string{
		{"/etc/failover/failover.toml", "this host's configuration (see /etc/failover/failover.toml.example)"},
		{"/etc/failover/failover.key", "the cluster key, mode 0600, the same on every node"},
		{"/run/failover.sock", "failoverd's control socket, where failover talks to it"},
		{"/usr/lib/systemd/system/failoverd.service", "the systemd unit"},
	} {
		fmt.Fprintf(&b, ".TP\n.I %s\n%s\n", roffText(f[0]), roffText(f[1]))
	}
	b.WriteString(".SH SEE ALSO\n")
	var see []string
	for _, o := range [][2]string{{"failoverd", "8"}, {"failover", "1"}, {"hwtest", "1"}} {
		if o[0] != prog {
			see = append(see, ".BR "+o[0]+" ("+o[1]+")")
		}
	}
	b.WriteString(strings.Join(see, ",\n") + ",\n.BR systemd.service (5)\n")
	return b.String()
}

// writeCommands writes one subsection per subcommand (depth first).
func writeCommands(b *strings.Builder, c *cmdDoc) {
	for _, s := range c.subs {
		usage, body := splitUsage(s.help)
		title := strings.Join(s.path, " ")
		// A group whose --help repeats the parent's (hwtest serial) says
		// nothing new: only its name and its subcommands.
		repeats := len(s.subs) > 0 && s.help == c.help
		if len(usage) > 0 && !repeats {
			title = usage[0]
		}
		fmt.Fprintf(b, ".SS %s\n", quote(roffText(strings.TrimSpace(title))))
		switch {
		case !repeats:
			b.WriteString(roffHelp(body))
		case s.short != "":
			b.WriteString(roffText(s.short) + "\n")
		}
		writeCommands(b, s)
	}
}

// splitUsage separates the usage line(s) at the top of a help text from the
// rest: "Usage: x ..." on one line, or "Usage:" followed by indented lines.
func splitUsage(help string) (usage []string, body string) {
	lines := strings.Split(strings.TrimRight(help, "\n"), "\n")
	i := 0
	for i < len(lines) && strings.TrimSpace(lines[i]) == "" {
		i++
	}
	if i < len(lines) && strings.HasPrefix(lines[i], "Usage: ") {
		usage = append(usage, strings.TrimSpace(strings.TrimPrefix(lines[i], "Usage: ")))
		return usage, strings.Join(lines[i+1:], "\n")
	}
	// "Usage:" block somewhere in the text (hwtest).
	for j, l := range lines {
		if l != "Usage:" {
			continue
		}
		k := j + 1
		for k < len(lines) && strings.HasPrefix(lines[k], "  ") {
			head, _, _ := strings.Cut(strings.TrimSpace(lines[k]), "  ")
			usage = append(usage, head)
			k++
		}
		// The block stays in the description too: it is the command list.
		return usage, strings.Join(lines, "\n")
	}
	return nil, strings.Join(lines, "\n")
}

// roffHelp converts a help text: paragraphs fill, "Heading:" lines become
// bold headings, Go flag lists become tagged paragraphs, indented lines
// (tables, examples) are kept as they are.
func roffHelp(text string) string {
	var b strings.Builder
	lines := strings.Split(strings.Trim(text, "\n"), "\n")
	verbatim := false
	endVerbatim := func() {
		if verbatim {
			b.WriteString(".fi\n.RE\n")
			verbatim = false
		}
	}
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		switch {
		case strings.TrimSpace(l) == "":
			endVerbatim()
			b.WriteString(".PP\n")
		case reFlagLine.MatchString(l) && i+1 < len(lines) && reFlagDesc.MatchString(lines[i+1]):
			endVerbatim()
			m := reFlagLine.FindStringSubmatch(l)
			tag := "\\fB\\-\\-" + roffText(m[1]) + "\\fR"
			if m[2] != "" {
				tag += " \\fI" + roffText(m[2]) + "\\fR"
			}
			fmt.Fprintf(&b, ".TP\n%s\n", tag)
			for i+1 < len(lines) && reFlagDesc.MatchString(lines[i+1]) {
				b.WriteString(roffLine(reFlagDesc.FindStringSubmatch(lines[i+1])[1]) + "\n")
				i++
			}
		case strings.HasPrefix(l, " "):
			if !verbatim {
				b.WriteString(".RS 4\n.nf\n")
				verbatim = true
			}
			b.WriteString(roffLine(strings.TrimPrefix(l, "  ")) + "\n")
		case strings.HasSuffix(l, ":") && !strings.Contains(l, " ") || l == "Usage:":
			endVerbatim()
			if i == 0 || strings.TrimSpace(lines[i-1]) != "" {
				b.WriteString(".PP\n")
			}
			fmt.Fprintf(&b, ".B %s\n", roffText(l))
		default:
			endVerbatim()
			b.WriteString(roffLine(l) + "\n")
		}
	}
	endVerbatim()
	return b.String()
}

// roffText escapes text for roff: backslashes, and dashes as minus signs
// so that flags copy and paste as typed.
func roffText(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\e`)
		case r == '-':
			b.WriteString(`\-`)
		case r > 0x7e:
			// Plain ASCII input; groff and mandoc read \[uXXXX] everywhere.
			fmt.Fprintf(&b, `\[u%04X]`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// roffLine is roffText for a whole input line: a leading '.' or '\” would
// be read as a request.
func roffLine(s string) string {
	s = roffText(s)
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		s = `\&` + s
	}
	return s
}

// quote makes a roff macro argument.
func quote(s string) string { return `"` + strings.ReplaceAll(s, `"`, `\(dq`) + `"` }
