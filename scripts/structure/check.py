"""scripts/check-structure: non-test Rust files over 400 lines, and import circles between the
files of a crate (the rules are stated in that script's header)."""

import os
import subprocess
import sys

from module_graph import import_circles

MAX_LINES = 400


def rust_files(root):
    """Tracked and new (not ignored) Rust files, relative to the root."""
    out = subprocess.run(
        ["git", "-C", root, "ls-files", "--cached", "--others", "--exclude-standard", "*.rs"],
        check=True, capture_output=True, text=True,
    ).stdout
    return sorted(p for p in set(out.split()) if os.path.isfile(os.path.join(root, p)))


def is_test_file(path):
    parts = path.split("/")
    return "tests" in parts[:-1] or parts[-1] == "tests.rs"


def oversized_files(root, files):
    """(lines, path) of every non-test file over the limit."""
    oversized = []
    for path in files:
        if is_test_file(path):
            continue
        with open(os.path.join(root, path), encoding="utf-8") as f:
            lines = sum(1 for _ in f)
        if lines > MAX_LINES:
            oversized.append((lines, path))
    return oversized


def main(root):
    files = rust_files(root)
    oversized = oversized_files(root, files)
    circles = import_circles(root, files)

    if oversized:
        print(f"Non-test Rust files over {MAX_LINES} lines ({len(oversized)}):")
        for lines, path in sorted(oversized, key=lambda item: (-item[0], item[1])):
            print(f"  {lines:5d}  {path}")
    else:
        print(f"No non-test Rust file is over {MAX_LINES} lines.")
    print()
    if circles:
        print(f"Import circles between files ({len(circles)}):")
        for crate, component, inside in circles:
            print(f"  {crate}: {', '.join(os.path.relpath(p, crate) for p in component)}")
            for a, b, line, text, kind in inside:
                note = ("", ", in #[cfg(test)] code", ", re-exported and used")[kind]
                print(f"      {os.path.relpath(a, crate)}:{line} -> {os.path.relpath(b, crate)}  ({text}{note})")
    else:
        print("No import circle between files.")
    return 1 if oversized or circles else 0


if __name__ == "__main__":
    sys.exit(main(os.path.abspath(sys.argv[1])))
