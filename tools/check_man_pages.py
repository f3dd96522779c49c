#!/usr/bin/env python3
"""tools/check_man_pages.py BIN_DIR SOURCE_DIR — the man pages cannot drift
from the programs.

Walks `schakel --help` down every subcommand (CLI11's "Subcommands:" list)
and checks that packaging/schakel.1 names every command path ("user
passwd", "link create", ...) and every long option each command's --help
lists; likewise schakeld's options in packaging/schakeld.8. Man pages escape
hyphens ("\\-\\-dir"); the check reads them unescaped. Exit 0 when all is
there, 1 with the list of what is missing.
"""
import re
import subprocess
import sys

MAX_DEPTH = 4
MAX_COMMANDS = 400


def help_text(argv):
    r = subprocess.run(argv + ["--help"], capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} --help exited {r.returncode}: {r.stderr.strip()}")
    return r.stdout


def sections(text):
    """Options and subcommands a CLI11 help text lists."""
    options, subcommands, where = [], [], None
    for line in text.splitlines():
        if line.startswith("Options:") or line.startswith("Positionals:"):
            where = "options" if line.startswith("Options:") else None
            continue
        if line.startswith("Subcommands:"):
            where = "subcommands"
            continue
        if not line.startswith("  ") or where is None:
            if line and not line.startswith(" "):
                where = None
            continue
        first = line.strip().split()[0]
        if where == "options":
            options += [o for o in re.findall(r"--[a-z0-9][a-z0-9-]*", first)]
        elif where == "subcommands":
            subcommands.append(first)
    return options, subcommands


def man_text(path):
    with open(path, encoding="utf-8") as f:
        t = f.read()
    t = t.replace("\\-", "-").replace("\\fB", "").replace("\\fI", "").replace("\\fR", "").replace("\\fP", "")
    return re.sub(r"[ \t]+", " ", t)


def names_command(man, path):
    """Whether one tag line (.B ...) of the man page names `path`: its words
    in order, as whole words ("user disable N | enable N" names "user
    enable")."""
    for line in man.splitlines():
        if not line.startswith((".B ", ".BR ", ".BI ")):
            continue
        words = re.findall(r"[a-z0-9][a-z0-9-]*", line[3:])
        if not words or words[0] != path[0]:
            continue
        at = 1
        for w in path[1:]:
            try:
                at = words.index(w, at) + 1
            except ValueError:
                break
        else:
            return True
    return False


def walk(program, man, missing):
    queue, seen = [[]], 0
    skip_options = {"--help", "--version"}
    while queue:
        path = queue.pop(0)
        seen += 1
        if seen > MAX_COMMANDS:
            raise SystemExit("too many commands; is the help output looping?")
        options, subs = sections(help_text([program] + path))
        name = " ".join(path)
        if path and not names_command(man, path):
            missing.append(f"command '{name}'")
        for o in options:
            if o not in skip_options and o not in man:
                missing.append(f"option {o} of '{name or 'schakel'}'")
        if len(path) < MAX_DEPTH:
            queue += [path + [s] for s in subs]


def main():
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    bindir, src = sys.argv[1], sys.argv[2]
    missing = []
    walk(f"{bindir}/schakel", man_text(f"{src}/packaging/schakel.1"), missing)
    man8 = man_text(f"{src}/packaging/schakeld.8")
    options, _ = sections(help_text([f"{bindir}/schakeld"]))
    for o in options:
        if o not in ("--help", "--version") and o not in man8:
            missing.append(f"option {o} of 'schakeld'")
    if missing:
        print("man pages lack:\n  " + "\n  ".join(missing))
        return 1
    print("man pages name every command and option --help lists")
    return 0


if __name__ == "__main__":
    sys.exit(main())
