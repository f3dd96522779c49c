#!/usr/bin/env python3
"""Lists the functions in C++ sources whose bodies are longer than a limit.

    tools/long_functions.py [--max N] [PATH...]

PATH is a file or a folder (searched for *.cpp); without one, every *.cpp git
knows of outside tests/ and bench/. A function is a top-level body: a brace
block at namespace or class scope whose header ends in a parameter list (with
qualifiers, a trailing return type or a constructor's initializer list after
it); lambdas and nested blocks count toward the function around them (a
lambda initialising a variable at namespace scope is not counted). Its
length is the lines from its opening brace to its closing brace, both
included. Prints "path:line: name (N lines)" for each one over N (default
80), longest first, and exits 1 if there is any.

A function may opt out with a comment "long-function: REASON" on one of the
three lines above its header; it is then listed apart, with its reason, and
does not count. This is a brace-matching scan, not a parser: comments,
string and character literals (raw strings included) are skipped, the
preprocessor is not run.
"""

import argparse
import os
import re
import subprocess
import sys

OPT_OUT = "long-function:"


def strip_code(text):
    """Returns text with comments and literals blanked, newlines kept."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c == "R" and text.startswith('R"', i) and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            m = re.match(r'R"([^()\\ ]{0,16})\(', text[i:])
            if not m:
                out.append(c)
                i += 1
                continue
            end = ")" + m.group(1) + '"'
            j = text.find(end, i + m.end())
            j = n if j < 0 else j + len(end)
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c in "\"'":
            # A digit separator (1'000) is not a character literal.
            if c == "'" and i > 0 and text[i - 1].isalnum() and text[i - 1 : i + 2] != "u8'":
                if re.match(r"[0-9a-fA-F]", text[i + 1 : i + 2] or " ") and re.search(r"[0-9]$", text[:i]):
                    out.append(" ")
                    i += 1
                    continue
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            out.append(" " * (j - i))
            i = j
        elif c == "#" and (i == 0 or text.rfind("\n", 0, i) == i - 1 or text[text.rfind("\n", 0, i) + 1 : i].strip() == ""):
            # A preprocessor line (with its continuations).
            j = i
            while True:
                k = text.find("\n", j)
                if k < 0:
                    k = n
                    break
                if text[k - 1] == "\\":
                    j = k + 1
                    continue
                break
            out.append(re.sub(r"[^\n]", " ", text[i:k]))
            i = k
        else:
            out.append(c)
            i += 1
    return "".join(out)


NAMESPACE = re.compile(r"^\s*(inline\s+)?namespace\b|^\s*extern\s*$")
CLASSY = re.compile(r"^\s*(template\s*<.*>\s*)?(class|struct|union|enum)\b[^(]*$", re.S)
FUNC_TAIL = re.compile(r"\)\s*(const|noexcept|override|final|mutable|&|&&|\s|->\s*[\w:<>,\s*&]+)*$")


def balanced_close(header, open_at):
    depth = 0
    for k in range(open_at, len(header)):
        if header[k] == "(":
            depth += 1
        elif header[k] == ")":
            depth -= 1
            if depth == 0:
                return k
    return -1


def function_name(header):
    m = re.search(r"(~?[\w:]+(?:operator\s*[^\s(]+)?|operator\s*\(\))\s*\(", header)
    return m.group(1) if m else "?"


def scan(path, limit):
    with open(path, encoding="utf-8", errors="replace") as f:
        raw = f.read()
    code = strip_code(raw)
    lines = raw.split("\n")
    found = []
    # stack of (kind, start_line, header) where kind in ns, class, func, other
    stack = []
    header = []
    header_line = None
    line = 1

    def in_function():
        return any(k == "func" for k, _, _ in stack)

    for idx, c in enumerate(code):
        if c == "\n":
            line += 1
        if in_function():
            if c == "{":
                stack.append(("inner", line, ""))
            elif c == "}":
                kind, start, h = stack.pop()
                if kind == "func":
                    length = line - start + 1
                    if length > limit:
                        found.append((path, h[1], h[0], length, opt_out(lines, h[1])))
                    header, header_line = [], None
            continue
        if c == "{":
            h = "".join(header)
            at_scope = not stack or stack[-1][0] in ("ns", "class")
            if not at_scope:
                stack.append(("other", line, ""))
                header.append(c)
                continue
            if NAMESPACE.search(h):
                stack.append(("ns", line, ""))
                header, header_line = [], None
                continue
            if CLASSY.search(h) and "(" not in h.split("{")[0]:
                stack.append(("class", line, ""))
                header, header_line = [], None
                continue
            first = h.find("(")
            is_func = False
            if first >= 0 and "=" not in h[:first].replace("operator=", "").replace("==", ""):
                close = balanced_close(h, first)
                if close >= 0:
                    tail = h[close:]
                    if FUNC_TAIL.search(h):
                        is_func = True
                    elif re.match(r"\)\s*[\w\s&]*:(?!:)", tail):
                        # A constructor's initializer list: a brace right after
                        # a name initializes a member, any other opens the body.
                        is_func = not (h and (h[-1].isalnum() or h[-1] == "_"))
            if is_func:
                name = function_name(h)
                stack.append(("func", line, (name, header_line or line)))
            else:
                stack.append(("other", line, ""))
                header.append(c)
            continue
        if c == "}":
            if stack:
                kind, _, _ = stack.pop()
                if kind in ("ns", "class"):
                    header, header_line = [], None
                else:
                    header.append(c)
            continue
        if c == ";" and (not stack or stack[-1][0] in ("ns", "class")):
            header, header_line = [], None
            continue
        if c in ":" and (not stack or stack[-1][0] == "class") and re.search(r"\b(public|private|protected)\s*$", "".join(header)):
            header, header_line = [], None
            continue
        if not c.isspace() and header_line is None:
            header_line = line
        header.append(c)
    if stack:
        print(f"{path}: braces unbalanced at the end; the scan may be wrong", file=sys.stderr)
    return found


def opt_out(lines, header_line):
    for k in range(max(0, header_line - 4), header_line - 1):
        if OPT_OUT in lines[k]:
            return lines[k].split(OPT_OUT, 1)[1].strip()
    return None


def default_paths(root):
    out = subprocess.run(["git", "ls-files", "*.cpp"], cwd=root, capture_output=True, text=True, check=True)
    return [os.path.join(root, p) for p in out.stdout.split() if not p.startswith(("tests/", "bench/"))]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--max", type=int, default=80)
    ap.add_argument("paths", nargs="*")
    args = ap.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    files = []
    for p in args.paths or default_paths(root):
        if os.path.isdir(p):
            for d, _, names in os.walk(p):
                files += [os.path.join(d, x) for x in sorted(names) if x.endswith(".cpp")]
        else:
            files.append(p)
    found = []
    for f in sorted(files):
        found += scan(f, args.max)
    found.sort(key=lambda r: -r[3])
    long_ones = [r for r in found if r[4] is None]
    kept = [r for r in found if r[4] is not None]
    for path, line, name, length, _ in long_ones:
        print(f"{os.path.relpath(path, root)}:{line}: {name} ({length} lines)")
    for path, line, name, length, reason in kept:
        print(f"{os.path.relpath(path, root)}:{line}: {name} ({length} lines, kept: {reason})")
    return 1 if long_ones else 0


if __name__ == "__main__":
    sys.exit(main())
