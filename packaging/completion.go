package main

import (
	"fmt"
	"sort"
	"strings"
)

// walk calls fn for c and every subcommand below it, parents first.
func walk(c *cmdDoc, fn func(*cmdDoc)) {
	fn(c)
	for _, s := range c.subs {
		walk(s, fn)
	}
}

func subNames(c *cmdDoc) []string {
	var out []string
	for _, s := range c.subs {
		out = append(out, s.path[len(s.path)-1])
	}
	return out
}

func flagNames(c *cmdDoc) []string {
	var out []string
	for _, f := range c.flags {
		out = append(out, "--"+f.name)
	}
	sort.Strings(out)
	return out
}

// bashCompletion renders the bash completion of the command tree c: the
// commands and subcommands, each one's flags, file names for flags and
// arguments that are files.
func bashCompletion(c *cmdDoc) string {
	prog := c.path[0]
	fn := "_" + strings.ReplaceAll(prog, "-", "_")
	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	w("# bash completion for %s, generated from \"%s --help\" by go run ./packaging. Do not edit.\n\n", prog, prog)

	w("# %s_flags PATH: the flags of the command PATH (\"\" is %s itself).\n", fn, prog)
	w("%s_flags() {\n    case $1 in\n", fn)
	walk(c, func(d *cmdDoc) {
		if len(d.flags) > 0 {
			w("    %s) echo %s ;;\n", bashWord(d.name()), bashWord(strings.Join(flagNames(d), " ")))
		}
	})
	w("    esac\n}\n\n")

	w("# %s_value PATH FLAG: prints file, dir or any when FLAG of PATH takes a value; fails when it takes none.\n", fn)
	w("%s_value() {\n    case \"$1 $2\" in\n", fn)
	walk(c, func(d *cmdDoc) {
		for _, f := range d.flags {
			if f.arg == "" {
				continue
			}
			kind := f.valueKind()
			if kind == "" {
				kind = "any"
			}
			w("    %s) echo %s ;;\n", bashWord(d.name()+" --"+f.name), kind)
		}
	})
	w("    *) return 1 ;;\n    esac\n}\n\n")

	w("# %s_subs PATH: the subcommands of PATH.\n", fn)
	w("%s_subs() {\n    case $1 in\n", fn)
	walk(c, func(d *cmdDoc) {
		if len(d.subs) > 0 {
			w("    %s) echo %s ;;\n", bashWord(d.name()), bashWord(strings.Join(subNames(d), " ")))
		}
	})
	w("    esac\n}\n\n")

	w("# %s_files PATH: succeeds when the arguments of PATH are files.\n", fn)
	w("%s_files() {\n    case $1 in\n", fn)
	walk(c, func(d *cmdDoc) {
		if d.files && len(d.subs) == 0 {
			w("    %s) return 0 ;;\n", bashWord(d.name()))
		}
	})
	w("    esac\n    return 1\n}\n\n")

	b.WriteString(strings.NewReplacer("_PROG_", fn, "PROGNAME", prog).Replace(`_PROG_() {
    local cur words cword
    if declare -F _get_comp_words_by_ref >/dev/null; then
        _get_comp_words_by_ref -n =: cur words cword
    else
        words=("${COMP_WORDS[@]}") cword=$COMP_CWORD cur=${COMP_WORDS[COMP_CWORD]}
    fi
    # The command path typed so far, skipping flags and their values.
    local path="" i w kind prev
    for ((i = 1; i < cword; i++)); do
        w=${words[i]}
        case $w in
        -*=*) continue ;;
        -*)
            [[ $w == --* ]] || w=-$w
            if _PROG__value "$path" "$w" >/dev/null; then ((i++)); fi
            continue ;;
        esac
        if [[ " $(_PROG__subs "$path") " == *" $w "* ]]; then
            path=${path:+$path }$w
        fi
    done
    prev=${words[cword-1]}
    [[ $prev == -* && $prev != --* ]] && prev=-$prev
    if ((cword > 1)) && [[ $prev == -* && $prev != *=* ]] && kind=$(_PROG__value "$path" "$prev"); then
        case $kind in
        file) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur")) ;;
        dir) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -d -- "$cur")) ;;
        *) COMPREPLY=() ;;
        esac
        return
    fi
    if [[ $cur == -*=* ]]; then
        w=${cur%%=*}
        [[ $w == --* ]] || w=-$w
        case $(_PROG__value "$path" "$w") in
        file) COMPREPLY=($(compgen -P "${cur%%=*}=" -f -- "${cur#*=}")) ;;
        dir) COMPREPLY=($(compgen -P "${cur%%=*}=" -d -- "${cur#*=}")) ;;
        *) COMPREPLY=() ;;
        esac
        return
    fi
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$(_PROG__flags "$path")" -- "$cur"))
        return
    fi
    local subs
    subs=$(_PROG__subs "$path")
    if [[ -n $subs ]]; then
        COMPREPLY=($(compgen -W "$subs" -- "$cur"))
    elif _PROG__files "$path"; then
        compopt -o filenames 2>/dev/null
        COMPREPLY=($(compgen -f -- "$cur"))
    fi
}
complete -F _PROG_ PROGNAME
`))
	return b.String()
}

// bashWord quotes s for a case pattern or echo.
func bashWord(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// zshCompletion renders the zsh completion of the command tree c: one
// function per command that has subcommands, _arguments for each one's
// flags, _files where values and arguments are files.
func zshCompletion(c *cmdDoc) string {
	prog := c.path[0]
	var b strings.Builder
	fmt.Fprintf(&b, "#compdef %s\n# zsh completion for %s, generated from \"%s --help\" by go run ./packaging. Do not edit.\n\n", prog, prog, prog)
	var groups []*cmdDoc
	walk(c, func(d *cmdDoc) {
		if len(d.subs) > 0 {
			groups = append(groups, d)
		}
	})
	// Deepest first, so each function is defined before the file's end calls the top one.
	for i := len(groups) - 1; i >= 0; i-- {
		writeZshGroup(&b, groups[i])
	}
	if len(c.subs) == 0 {
		fmt.Fprintf(&b, "%s() {\n    _arguments", zshFunc(c))
		specs := zshFlagSpecs(c)
		if c.files {
			specs = append(specs, "'*:file:_files'")
		}
		for _, spec := range specs {
			fmt.Fprintf(&b, " \\\n        %s", spec)
		}
		b.WriteString("\n}\n\n")
	}
	fmt.Fprintf(&b, "%s \"$@\"\n", zshFunc(c))
	return b.String()
}

func zshFunc(c *cmdDoc) string {
	return "_" + strings.ReplaceAll(strings.Join(c.path, "_"), "-", "_")
}

func writeZshGroup(b *strings.Builder, g *cmdDoc) {
	w := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }
	w("%s() {\n    local curcontext=$curcontext state line\n    local -a subs\n    subs=(\n", zshFunc(g))
	for _, s := range g.subs {
		w("        %s\n", zshQuote(s.path[len(s.path)-1]+":"+zshDesc(s.short)))
	}
	w("    )\n    _arguments -C \\\n")
	for _, spec := range zshFlagSpecs(g) {
		w("        %s \\\n", spec)
	}
	w("        '1: :->sub' \\\n        '*:: :->args'\n")
	w("    case $state in\n    sub) _describe -t commands %s subs ;;\n    args)\n        case $words[1] in\n",
		zshQuote(strings.Join(g.path, " ")+" command"))
	for _, s := range g.subs {
		name := s.path[len(s.path)-1]
		if len(s.subs) > 0 {
			w("        %s) %s ;;\n", zshQuote(name), zshFunc(s))
			continue
		}
		specs := zshFlagSpecs(s)
		if s.files {
			specs = append(specs, "'*:file:_files'")
		}
		if len(specs) == 0 {
			w("        %s) ;;\n", zshQuote(name))
			continue
		}
		w("        %s) _arguments \\\n", zshQuote(name))
		for i, spec := range specs {
			sep := " \\"
			if i == len(specs)-1 {
				sep = " ;;"
			}
			w("            %s%s\n", spec, sep)
		}
	}
	w("        esac ;;\n    esac\n}\n\n")
}

// zshFlagSpecs are the _arguments specs of c's flags.
func zshFlagSpecs(c *cmdDoc) []string {
	var out []string
	for _, f := range c.flags {
		desc := zshDesc(f.desc)
		if f.arg == "" {
			out = append(out, zshQuote("--"+f.name+"["+desc+"]"))
			continue
		}
		action := " "
		switch f.valueKind() {
		case "file":
			action = "_files"
		case "dir":
			action = "_files -/"
		}
		out = append(out, zshQuote("--"+f.name+"=["+desc+"]:"+strings.ReplaceAll(f.arg, ":", "")+":"+action))
	}
	return out
}

// zshDesc makes a description safe inside an _arguments [...] or a
// _describe item.
func zshDesc(s string) string {
	return strings.NewReplacer("[", "(", "]", ")", "\\", "", "\n", " ").Replace(s)
}

func zshQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
