"""Reading Rust source without a compiler: comments and literals blanked out, `mod` and `use`
items found with the inline modules they sit in, `use` trees expanded to paths."""

import os
import re

IDENT = r"[A-Za-z_][A-Za-z0-9_]*"


def blank_comments_and_strings(text):
    """The source with comments, string and char literals replaced by spaces (lines kept)."""
    out = []
    i, n = 0, len(text)
    keep = lambda s: "".join(c if c == "\n" else " " for c in s)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(keep(text[i:j]))
            i = j
        elif text.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            out.append(keep(text[i:j]))
            i = j
        elif (m := re.compile(r'b?r(#*)"').match(text, i)) and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            end = text.find('"' + m.group(1), m.end())
            j = n if end < 0 else end + 1 + len(m.group(1))
            out.append(keep(text[i:j]))
            i = j
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(keep(text[i:j + 1]))
            i = j + 1
        elif c == "'" and (m := re.compile(r"'(\\(x[0-9a-fA-F]{2}|u\{[0-9a-fA-F]+\}|.)|[^\\'])'").match(text, i)):
            out.append(keep(m.group(0)))
            i = m.end()
        else:
            out.append(c)
            i += 1
    return "".join(out)


class File:
    """One parsed source file: its blanked text, its inline modules and its `use` items."""

    def __init__(self, root, path):
        self.path = path
        with open(os.path.join(root, path), encoding="utf-8") as f:
            self.raw = f.read()
        self.code = blank_comments_and_strings(self.raw)
        self.mod_decls = []  # (inline module path within the file, name, #[path] or None, line)
        self.uses = []  # (inline module path, is_pub, use tree text, start, end)
        self.inline = set()  # inline module paths within the file
        self._scan()

    def line_of(self, offset):
        return self.code.count("\n", 0, offset) + 1

    def _scan(self):
        code = self.code
        stack = []  # (inline module name, brace depth at which it closes)
        depth = 0
        token = re.compile(
            r"(?P<open>\{)|(?P<close>\})"
            r"|(?P<mod>\b(?:pub(?:\([^)]*\))?\s+)?mod\s+(?P<mname>" + IDENT + r")\s*(?P<mend>[;{]))"
            r"|(?P<use>\b(?P<pub>pub(?:\([^)]*\))?\s+)?use\s+(?P<tree>[^;]*);)"
        )
        for m in token.finditer(code):
            here = tuple(name for name, _ in stack)
            if m.group("open"):
                depth += 1
            elif m.group("close"):
                depth -= 1
                if stack and stack[-1][1] == depth:
                    stack.pop()
            elif m.group("mod"):
                name = m.group("mname")
                if m.group("mend") == ";":
                    attr = re.search(r'#\[path\s*=\s*"([^"]+)"\]\s*$', self.raw[: m.start()])
                    self.mod_decls.append((here, name, attr.group(1) if attr else None, self.line_of(m.start())))
                else:
                    stack.append((name, depth))
                    depth += 1
                    self.inline.add(here + (name,))
            elif m.group("use"):
                self.uses.append((here, bool(m.group("pub")), m.group("tree"), m.start(), m.end()))


def expand_use_tree(tree):
    """`a::{b, c::{d as e, self}, f::*}` -> [(["a","b"],"b"), (["a","c","d"],"e"), (["a","c"],"c"),
    (["a","f","*"],"*")]: each imported path with the name it is known by."""
    tokens = re.findall(r"::|[{},*]|" + IDENT, tree)
    results = []

    def tree_at(i, prefix):
        segs = list(prefix)
        while i < len(tokens):
            token = tokens[i]
            if token == "{":
                i += 1
                while i < len(tokens) and tokens[i] != "}":
                    i = tree_at(i, segs)
                    if i < len(tokens) and tokens[i] == ",":
                        i += 1
                return i + 1
            if token in (",", "}"):
                break
            if token == "as":
                if segs and segs[-1] == "self":
                    segs = segs[:-1]
                if segs:
                    results.append((segs, tokens[i + 1] if i + 1 < len(tokens) else segs[-1]))
                return i + 2
            if token != "::":
                segs.append(token)
            i += 1
        if segs and segs[-1] == "self":
            segs = segs[:-1]
        if segs:
            results.append((segs, segs[-1]))
        return i

    tree_at(0, [])
    return results


def defines(src, name):
    return re.search(
        r"\b(?:fn|struct|enum|trait|type|const|static|union|mod)\s+" + re.escape(name) + r"\b"
        r"|macro_rules!\s*" + re.escape(name) + r"\b",
        src.code,
    ) is not None


def test_spans(src):
    """Where the file's `#[cfg(test)]` inline modules lie (offsets in its text)."""
    spans = []
    for m in re.finditer(r"#\[cfg\(test\)\]\s*(?:#\[[^\]]*\]\s*)*(?:pub(?:\([^)]*\))?\s+)?mod\s+" + IDENT + r"\s*\{", src.code):
        depth, i = 1, m.end()
        while i < len(src.code) and depth:
            depth += {"{": 1, "}": -1}.get(src.code[i], 0)
            i += 1
        spans.append((m.start(), i))
    return spans


def defined_names(src):
    pattern = r"\b(?:fn|struct|enum|trait|type|const|static|union)\s+(" + IDENT + r")"
    return set(re.findall(pattern, src.code))


def used_outside_uses(code, name, uses):
    pieces, last = [], 0
    for _, _, _, start, end in sorted(uses, key=lambda u: u[3]):
        pieces.append(code[last:start])
        last = end
    pieces.append(code[last:])
    return re.search(r"\b" + re.escape(name) + r"\b", "".join(pieces)) is not None


def inline_modules_by_offset(src):
    spans = []  # (start, end, inline path)
    stack, depth = [], 0
    token = re.compile(r"(\{)|(\})|\bmod\s+(" + IDENT + r")\s*\{")
    for m in token.finditer(src.code):
        if m.group(3):
            stack.append((m.group(3), depth, m.end()))
            depth += 1
        elif m.group(1):
            depth += 1
        else:
            depth -= 1
            if stack and stack[-1][1] == depth:
                path = tuple(name for name, _, _ in stack)
                spans.append((stack[-1][2], m.start(), path))
                stack.pop()

    def at(offset):
        best = ()
        for start, end, path in spans:
            if start <= offset < end and len(path) > len(best):
                best = path
        return best

    return at
