#!/usr/bin/env python3
"""The known-answer vectors the documents show are the ones the tests use.

  check_doc_vectors.py SOURCE_DIR

Every `<!-- vector: PATH -->` line in docs/*.md and README.md must be followed
directly by a fenced code block whose content is byte for byte the file PATH
(relative to SOURCE_DIR; the block's last line ends where the file's final
newline is). Each file under tests/interop/ that a document shows must exist;
a changed format therefore fails the suite until its document shows the new
vector. Exit 0 when all agree, 1 naming each disagreement, 2 on bad usage.
"""
import pathlib
import re
import sys

MARKER = re.compile(r"^<!-- vector: (\S+) -->$")


def blocks(doc):
    """Yields (line number, path, block text or None) for each marker."""
    lines = doc.read_text(encoding="utf-8").split("\n")
    for i, line in enumerate(lines):
        m = MARKER.match(line)
        if not m:
            continue
        if i + 1 >= len(lines) or not lines[i + 1].startswith("```"):
            yield i + 1, m.group(1), None
            continue
        body = []
        for j in range(i + 2, len(lines)):
            if lines[j].startswith("```"):
                yield i + 1, m.group(1), "\n".join(body) + "\n"
                break
            body.append(lines[j])
        else:
            yield i + 1, m.group(1), None


def main():
    if len(sys.argv) != 2:
        sys.stderr.write(__doc__)
        return 2
    root = pathlib.Path(sys.argv[1])
    docs = sorted((root / "docs").glob("*.md")) + [root / "README.md"]
    problems, shown = [], 0
    for doc in docs:
        for line, rel, text in blocks(doc):
            where = "%s:%d" % (doc.relative_to(root), line)
            if text is None:
                problems.append("%s: the marker for %s is not followed by a fenced block" % (where, rel))
                continue
            path = root / rel
            if not path.is_file():
                problems.append("%s: %s does not exist" % (where, rel))
                continue
            if path.read_bytes() != text.encode("utf-8"):
                problems.append("%s: the block differs from %s (regenerate the vector and update the document)"
                                % (where, rel))
            shown += 1
    for p in problems:
        print(p)
    if shown == 0:
        print("no vector markers found in the documents")
        return 1
    if not problems:
        print("%d vectors in the documents match their files" % shown)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
