"""The files of each crate target as a graph (file -> the files it depends on), and the
strongly connected components of that graph: the import circles."""

import os
import re
import subprocess
import sys

from rust_source import (
    IDENT,
    File,
    defined_names,
    defines,
    expand_use_tree,
    inline_modules_by_offset,
    test_spans,
    used_outside_uses,
)


def crate_targets(crate_dir, all_files):
    """The root files of a crate's targets, relative to the repository root."""
    prefix = "" if crate_dir == "." else crate_dir + "/"
    roots = []
    for path in sorted(all_files):
        if not path.startswith(prefix):
            continue
        parts = path[len(prefix):].split("/")
        if parts in (["src", "lib.rs"], ["src", "main.rs"]):
            roots.append(path)
        elif parts[:2] == ["src", "bin"] and (len(parts) == 3 or parts[3:] == ["main.rs"]):
            roots.append(path)
        elif parts[0] in ("tests", "benches", "examples") and (len(parts) == 2 or parts[2:] == ["main.rs"]):
            roots.append(path)
    return roots


class Target:
    """One crate target: its module tree, file by file."""

    def __init__(self, root, root_file, all_files, parsed):
        self.root = root
        self.module_file = {}  # module path (tuple) -> file path
        self.file_module = {}  # file path -> module path
        self.parsed = parsed
        self._walk(root_file, (), all_files)

    def _walk(self, path, module, all_files):
        if path in self.file_module or path not in all_files:
            return
        if path not in self.parsed:
            self.parsed[path] = File(self.root, path)
        src = self.parsed[path]
        self.file_module[path] = module
        self.module_file[module] = path
        for inline in src.inline:
            self.module_file[module + inline] = path
        base = os.path.dirname(path)
        # A crate root's or a mod.rs's children sit beside it; a.rs's sit in a/.
        beside = os.path.basename(path) in ("mod.rs", "lib.rs", "main.rs") or module == ()
        own_dir = base if beside else os.path.join(base, os.path.basename(path)[:-3])
        for inline, name, attr, _ in src.mod_decls:
            directory = os.path.join(own_dir, *inline)
            if attr:
                child = os.path.normpath(os.path.join(base if not inline else directory, attr))
            else:
                child = os.path.join(directory, name + ".rs")
                if child not in all_files:
                    child = os.path.join(directory, name, "mod.rs")
            self._walk(child, module + inline + (name,), all_files)

    def children(self, module):
        return {m[-1] for m in self.module_file if len(m) == len(module) + 1 and m[: len(module)] == module}

    def absolute(self, segs, here):
        """A path as written in module `here`, made absolute; None when it leaves the crate."""
        if not segs:
            return None
        if segs[0] == "crate":
            return list(segs[1:])
        if segs[0] in ("self", "super"):
            base = list(here)
            rest = list(segs)
            while rest and rest[0] in ("self", "super"):
                if rest.pop(0) == "super":
                    if not base:
                        return None
                    base.pop()
            return base + rest
        if segs[0] in self.children(tuple(here)):
            return list(here) + list(segs)
        return None

    def resolve(self, segs, seen=None):
        """The file that defines what the absolute path `segs` names (re-exports followed)."""
        seen = seen or set()
        for cut in range(len(segs), -1, -1):
            module = tuple(segs[:cut])
            if module in self.module_file:
                break
        else:
            return None
        path = self.module_file[module]
        rest = segs[cut:]
        if not rest or (module, rest[0]) in seen:
            return path
        seen.add((module, rest[0]))
        followed = self.follow_reexport(module, rest, seen)
        return followed or path

    def follow_reexport(self, module, rest, seen):
        src = self.parsed[self.module_file[module]]
        inline = module[len(self.file_module[src.path]):]
        globs = []
        for here, is_pub, tree, _, _ in src.uses:
            if not is_pub or here != inline:
                continue
            for segs, alias in expand_use_tree(tree):
                target = self.absolute(segs, module)
                if target is None:
                    continue
                if segs[-1] == "*":
                    globs.append(target[:-1])
                elif alias == rest[0]:
                    return self.resolve(target + rest[1:], seen)
        if defines(src, rest[0]):
            return None
        for glob in globs:
            found = self.resolve(glob + rest, seen)
            if found and defines(self.parsed[found], rest[0]):
                return found
        return None


def edges_of(target, src, macros):
    """(target file, line, evidence, kind) for every dependency of one file in one target; kind
    is 0 for code, 1 for test code, 2 for a re-export the file also uses."""
    module = target.file_module[src.path]
    code = src.code
    found = []
    tests = test_spans(src)
    kind_at = lambda offset: 1 if any(s <= offset < e for s, e in tests) else 0
    use_spans = []
    aliases = {}  # a name brought in by `use`, for paths in code that start with it
    for inline, is_pub, tree, start, end in src.uses:
        use_spans.append((start, end))
        here = module + inline
        for segs, alias in expand_use_tree(tree):
            absolute = target.absolute(segs, here)
            if absolute is None:
                continue
            if segs[-1] == "*":
                absolute = absolute[:-1]
            else:
                aliases[alias] = absolute
            dest = target.resolve(absolute)
            names = [alias] if segs[-1] != "*" else (defined_names(target.parsed[dest]) if dest else [])
            if is_pub and not any(used_outside_uses(code, name, src.uses) for name in names):
                continue  # a re-export the file itself does not use
            if dest:
                kind = 2 if is_pub else kind_at(start)
                found.append((dest, src.line_of(start), "use " + "::".join(segs), kind))
    # Paths in code: crate::/super::/self::, a child module's name, and macros.
    path_re = re.compile(r"(?<![A-Za-z0-9_:])((?:" + IDENT + r"::)+" + IDENT + r")(\s*!)?")
    inline_at = inline_modules_by_offset(src)
    for m in path_re.finditer(code):
        if any(start <= m.start() < end for start, end in use_spans):
            continue
        segs = m.group(1).split("::")
        here = module + inline_at(m.start())
        if m.group(2):
            dest = macros.get(segs[-1]) if segs[0] in ("crate", "self", "super") else None
        else:
            absolute = target.absolute(segs, here)
            if absolute is None and segs[0] in aliases:
                absolute = aliases[segs[0]] + segs[1:]
            dest = target.resolve(absolute) if absolute is not None else None
        if dest:
            text = m.group(1) + ("!" if m.group(2) else "")
            found.append((dest, src.line_of(m.start()), text, kind_at(m.start())))
    # Unqualified macro calls resolve to the crate's macro_rules! of that name, if any.
    for m in re.finditer(r"(?<![A-Za-z0-9_:])(" + IDENT + r")!\s*[(\[{]", code):
        dest = macros.get(m.group(1))
        if dest and not re.search(r"macro_rules!\s*$", code[: m.start()]):
            found.append((dest, src.line_of(m.start()), m.group(1) + "!", kind_at(m.start())))
    return [edge for edge in found if edge[0] != src.path]


def strongly_connected(graph):
    index, low, on_stack, stack, out = {}, {}, set(), [], []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            out.append(sorted(component))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def crates_of(root):
    """The directories (relative to the root) of the workspace's packages."""
    manifests = subprocess.run(
        ["git", "-C", root, "ls-files", "--cached", "--others", "--exclude-standard", "Cargo.toml", "*/Cargo.toml"],
        check=True, capture_output=True, text=True,
    ).stdout.split()
    return sorted(
        os.path.dirname(manifest) or "."
        for manifest in manifests
        if "[package]" in open(os.path.join(root, manifest), encoding="utf-8").read()
    )


def import_circles(root, files):
    """Every circle, per crate: (crate, its files, [(from, to, line, evidence, kind)])."""
    all_files = set(files)
    circles = []
    parsed = {}
    for crate in crates_of(root):
        graph, evidence = {}, {}
        for root_file in crate_targets(crate, all_files):
            target = Target(root, root_file, all_files, parsed)
            macros = {}
            for path in target.file_module:
                for m in re.finditer(r"macro_rules!\s*(" + IDENT + ")", parsed[path].code):
                    macros.setdefault(m.group(1), path)
            for path in target.file_module:
                graph.setdefault(path, set())
                for dest, line, text, kind in edges_of(target, parsed[path], macros):
                    graph[path].add(dest)
                    # Show the plainest reason for an edge: code before test code before re-exports.
                    if (path, dest) not in evidence or kind < evidence[(path, dest)][2]:
                        evidence[(path, dest)] = (line, text, kind)
        for component in strongly_connected(graph):
            if len(component) > 1:
                members = set(component)
                inside = sorted((a, b) for a in component for b in graph[a] if b in members)
                circles.append((crate, component, [(a, b) + evidence[(a, b)] for a, b in inside]))
    return circles
