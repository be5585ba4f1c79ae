#!/usr/bin/env python3
"""gen.py — seeded model-like replies for the differential test: real source files (crates
under ~/.cargo/registry/src, Python and Markdown files of the aider venv), a meant edit on each
(change, insert at the same or an outer level, delete, rewrite), rendered in every edit format
with the accidents models make. Each case carries the whole directory after the meant edit.

    gen.py --seed N --count N [--venv target/aider-venv] > cases.jsonl

The same seed and source tree give the same cases. Perturbations (the case id names them):
  paths   plain, **bold**, `backticks`, # hash, trailing colon, a\\b Windows separators, prose
          ("Here is the updated app.py:"), one file named two ways in one reply, path/to/ prefix
  diff    SEARCH and REPLACE de-indented together, SEARCH alone de-indented, both indented more,
          trailing whitespace, blank first line, trailing blank line, `...` elision, several
          blocks, two files, CRLF reply, non-unique and absent SEARCH texts, Markdown files with
          code blocks, files holding the SEARCH/REPLACE markers
  udiff   right, wrong and missing (`@@ ... @@`) line numbers, little or one-sided wrong
          context, a context line that lost its leading space, `--- /dev/null` over an
          existing file, de-indented hunks, several hunks and files, ``` context lines
  whole   path styles, listings with fences inside (``` and indented), path only in prose
          backticks, elided listings (`# ... rest of the file unchanged ...`)
  patch   several chunks and files, @@ hints, re-indented or trailing-whitespace context, prose
          before `*** Begin Patch`, no `*** End Patch`, Add File, a `*** End Patch` line of the
          file as context
"""

import argparse
import glob
import json
import os
import random
import sys
from pathlib import Path

FORMATS = ("diff", "diff-fenced", "udiff", "whole", "patch")


# ---------------------------------------------------------------------------------------------
# Sources: real files, cut to a window of lines so a case stays small.


def sources(venv, only_venv=False):
    """Real files to edit. With only_venv, just the packages install.sh pins (aider, tqdm,
    packaging, diff-match-patch, aider's docs), so the cases are the same on every machine."""
    home = Path(os.environ.get("CARGO_HOME", Path.home() / ".cargo"))
    rust = [] if only_venv else sorted(glob.glob(str(home / "registry/src/*/*/src/**/*.rs"), recursive=True))
    site = sorted(glob.glob(str(Path(venv) / "lib/python*/site-packages")))
    py = []
    pkgs = ("aider", "tqdm", "packaging", "diff_match_patch")
    for s in site:
        for pkg in pkgs if only_venv else pkgs + ("pip/_internal/commands",):
            py += sorted(glob.glob(f"{s}/{pkg}/**/*.py", recursive=True))
    md = [] if only_venv else sorted(glob.glob(str(home / "registry/src/*/*/README.md")))
    md = [p for p in md if "\n```" in _read(p)]
    md += sorted(glob.glob(str(Path(venv) / "aider-sdist/aider/website/docs/**/*.md"), recursive=True))
    return {"rust": rust, "python": py, "markdown": md}


def _read(p):
    try:
        return Path(p).read_text(encoding="utf-8")
    except (UnicodeError, OSError):
        return ""


def case_path(abs_path, kind):
    parts = Path(abs_path).parts
    if kind == "rust":
        i = max(i for i, p in enumerate(parts) if p == "src")
        return "/".join(parts[i:])
    if kind == "python":
        i = max(i for i, p in enumerate(parts) if p == "site-packages")
        return "/".join(parts[i + 1 :])
    name = parts[-1]
    return "README.md" if name == "README.md" else "docs/" + name


def pick_file(rng, pool, kind, max_lines=90):
    for _ in range(50):
        p = rng.choice(pool[kind])
        text = _read(p)
        if not text or "\r" in text or "\t" in text and rng.random() < 0.5:
            continue
        lines = text.split("\n")[:-1] if text.endswith("\n") else text.split("\n")
        if len(lines) < 12:
            continue
        start = rng.randrange(0, max(1, len(lines) - max_lines))
        window = lines[start : start + rng.randint(20, max_lines)]
        if sum(1 for line in window if line.strip()) < 8:
            continue
        return case_path(p, kind), window
    raise SystemExit(f"no usable {kind} source file")


# ---------------------------------------------------------------------------------------------
# Meant edits.


def indent_of(line):
    return line[: len(line) - len(line.lstrip())]


def comment(kind, n):
    return {"rust": f" // edited {n}", "python": f"  # edited {n}", "markdown": f" (edited {n})"}[kind]


def new_line(kind, indent, n):
    return indent + {
        "rust": f"let _edit_{n} = {n};",
        "python": f"_edit_{n} = {n}",
        "markdown": f"A line added by edit {n}.",
    }[kind]


def occurrences(lines, region):
    k = len(region)
    return [i for i in range(len(lines) - k + 1) if lines[i : i + k] == region]


def choose_region(rng, lines, k, unique=True, taken=()):
    """A run of k lines, not blank at either end, unique in the file (unless not asked)."""
    for _ in range(60):
        i = rng.randrange(0, len(lines) - k + 1)
        if any(i < b and a < i + k + 1 for a, b in taken):
            continue
        region = lines[i : i + k]
        if not region[0].strip() or not region[-1].strip():
            continue
        if any(m in "\n".join(region) for m in ("<<<<<<<", "=======", ">>>>>>>")):
            continue
        if unique and len(occurrences(lines, region)) != 1:
            continue
        return i
    return None


def meant_edit(rng, lines, kind, i, k, n):
    """The lines that replace lines[i:i+k]: one of change, insert (same level or outer level),
    delete, rewrite."""
    region = lines[i : i + k]
    op = rng.choice(["change", "change", "insert", "outer", "delete", "rewrite"])
    if op == "delete" and k < 2:
        op = "change"
    nonblank = [j for j, line in enumerate(region) if line.strip()]
    if op == "change":
        j = rng.choice(nonblank)
        new = list(region)
        new[j] = region[j] + comment(kind, n)
    elif op == "insert":
        new = list(region) + [new_line(kind, indent_of(region[-1]), n)]
    elif op == "outer":
        outer = min((indent_of(line) for line in region if line.strip()), key=len)
        outer = outer[: max(0, len(outer) - 4)] if outer.startswith(" ") else ""
        new = list(region) + ["", new_line(kind, outer, n)]
    elif op == "delete":
        j = rng.choice(nonblank)
        new = region[:j] + region[j + 1 :]
    else:
        new = [line + comment(kind, n) if line.strip() else line for line in region]
    return op, new


# ---------------------------------------------------------------------------------------------
# Rendering.


PATH_STYLES = ["plain", "plain", "bold", "backticks", "hash", "colon", "windows", "prose"]


def styled_path(style, path):
    if style == "bold":
        return f"**{path}**"
    if style == "backticks":
        return f"`{path}`"
    if style == "hash":
        return f"# {path}"
    if style == "colon":
        return f"{path}:"
    if style == "windows":
        return path.replace("/", "\\")
    if style == "prose":
        return f"Here is the updated {path}:"
    if style == "prefix":
        return f"path/to/{path}"
    return path


def fence_for(files):
    """The fence aider's choose_fence (and codefleet's prompt) picks for these files."""
    for f in ("```", "````", "<source>", "<code>", "<pre>", "<codeblock>", "<sourcecode>"):
        if not any(line.startswith(f) for t in files.values() for line in t.split("\n")):
            return f
    return "```"


def close(fence):
    """The closing line of a fence: the same backticks, or the tag's closing form."""
    return "</" + fence[1:] if fence.startswith("<") else fence


LANG = {"rust": "rust", "python": "python", "markdown": "markdown"}


def join(lines):
    return "".join(line + "\n" for line in lines)


def deindent(lines, amount=None):
    ind = [len(indent_of(line)) for line in lines if line.strip()]
    cut = min(ind) if ind else 0
    if amount is not None:
        cut = min(cut, amount)
    return [line[cut:] if line.strip() else line.strip() for line in lines]


def render_diff(rng, fmt, edits, fence, pert, files_lines):
    """SEARCH/REPLACE blocks, one per edit, with the perturbation `pert`."""
    out = [rng.choice(["", "I'll make these changes.\n\n", "Here are the edits:\n\n"])]
    for e in edits:
        search, replace = list(e["search"]), list(e["replace"])
        if pert == "deindent_both":
            ind = [len(indent_of(line)) for line in search + replace if line.strip()]
            cut = min(ind) if ind else 0
            search = [line[cut:] for line in search]
            replace = [line[cut:] for line in replace]
        elif pert == "deindent_search":
            search = deindent(search)
        elif pert == "indent_more":
            search = ["    " + line if line.strip() else line for line in search]
            replace = ["    " + line if line.strip() else line for line in replace]
        elif pert == "trailing_ws":
            j = rng.randrange(len(search))
            search[j] += "  "
        elif pert == "blank_first":
            lines = files_lines[e["path"]]
            if e["at"] > 0 and not lines[e["at"] - 1].strip():
                search, replace = [""] + search, [""] + replace
            else:
                search = [""] + search
        elif pert == "trailing_blank":
            search, replace = search + [""], replace + [""]
        path_line = styled_path(e["style"], e["path"])
        lang = rng.choice(["", LANG[e["kind"]]])
        marks = ("<<<<<<< SEARCH", "=======", ">>>>>>> REPLACE")
        body = join([marks[0]] + search + [marks[1]] + replace + [marks[2]])
        if fmt == "diff-fenced":
            out.append(f"{fence}{lang}\n{path_line}\n{body}{close(fence)}\n\n")
        else:
            out.append(f"{path_line}\n{fence}{lang}\n{body}{close(fence)}\n\n")
    return "".join(out)


def split_common(search, replace):
    """Lines common to both ends of a change are context, as diff writes them."""
    minus, plus, head, tail = list(search), list(replace), [], []
    while minus and plus and minus[0] == plus[0]:
        head.append(minus.pop(0))
        plus.pop(0)
    while minus and plus and minus[-1] == plus[-1]:
        tail.insert(0, minus.pop())
        plus.pop()
    return minus, plus, head, tail


def render_udiff(rng, edits, pert, files_lines, case_files):
    out = ["```diff\n"]
    last_path = None
    prefix = rng.random() < 0.4
    for e in edits:
        lines = files_lines[e["path"]]
        i, k = e["at"], len(e["search"])
        c = 0 if pert == "no_context" else rng.choice([1, 2, 3, 3])
        before = lines[max(0, i - c) : i]
        after = lines[i + k : i + k + c]
        minus, plus, head, tail = split_common(e["search"], e["replace"])
        ctx_before, ctx_after = before + head, tail + after
        if pert == "wrong_context" and (ctx_before or ctx_after):
            side = ctx_before if ctx_before and (not ctx_after or rng.random() < 0.5) else ctx_after
            j = 0 if side is ctx_before else len(side) - 1
            side[j] = side[j] + " wrong"
        body = [" " + line for line in ctx_before]
        body += ["-" + line for line in minus] + ["+" + line for line in plus]
        body += [" " + line for line in ctx_after]
        if pert == "lost_space":
            # Not a line whose text starts like a diff prefix: without its space it would
            # be another kind of line, not a context line that lost its space.
            ctx = [j for j, line in enumerate(body)
                   if line.startswith(" ") and line.strip() and line[1:2] not in "+-@\\"]
            if ctx:
                j = rng.choice(ctx)
                body[j] = body[j][1:]
        if pert == "deindent":
            body = [line[0] + x for line, x in zip(body, deindent([b[1:] for b in body]))]
        start = max(0, i - len(before)) + 1
        n_old = len(ctx_before) + len(minus) + len(ctx_after)
        n_new = len(ctx_before) + len(plus) + len(ctx_after)
        if pert == "no_numbers":
            at = rng.choice(["@@ ... @@", "@@ @@"])
        elif pert == "wrong_numbers":
            s = max(1, start + rng.choice([-30, -7, 5, 12, 40]))
            at = f"@@ -{s},{n_old} +{s},{n_new} @@"
        else:
            at = f"@@ -{start},{n_old} +{start},{n_new} @@"
        path = e["path"]
        if path != last_path:
            old = f"a/{path}" if prefix else path
            if pert == "dev_null":
                old = "/dev/null"
            out.append(f"--- {old}\n+++ {'b/' + path if prefix else path}\n")
            last_path = path
        out.append(at + "\n" + join(body))
    out.append("```\n")
    return "".join(out)


def render_patch(rng, edits, pert, files_lines):
    out = []
    if pert == "prose_before":
        out.append("Here is the patch:\n\n")
    out.append("*** Begin Patch\n")
    last = None
    for e in edits:
        lines = files_lines[e["path"]]
        i, k = e["at"], len(e["search"])
        if e["path"] != last:
            out.append(f"*** Update File: {e['path']}\n")
            last = e["path"]
        minus, plus, head, tail = split_common(e["search"], e["replace"])
        before = lines[max(0, i - 3) : i] + head
        after = tail + lines[i + k : i + k + 3]
        hint = ""
        if rng.random() < 0.3:
            top = lines[: max(0, i - 3)]
            cands = [line for line in top if line.strip() and not line.startswith(" ")]
            if cands:
                hint = " " + cands[-1].strip()
        ctx_b = [" " + line for line in before]
        ctx_a = [" " + line for line in after]
        if pert == "reindent" and ctx_b:
            ctx_b[0] = " " + ctx_b[0][1:].strip()
        if pert == "trailing_ws" and ctx_a:
            ctx_a[-1] += "  "
        body = ctx_b + ["-" + line for line in minus] + ["+" + line for line in plus] + ctx_a
        out.append("@@" + hint + "\n" + join(body))
    if pert == "add_file":
        out.append("*** Add File: notes/added.txt\n+a new file\n+with two lines\n")
    if pert != "no_end":
        out.append("*** End Patch\n")
    return "".join(out)


def render_whole(rng, new_files, case_files, pert, kinds, fence):
    out = []
    for path, text in new_files.items():
        style = rng.choice(PATH_STYLES + ["prefix"]) if pert == "paths" else "plain"
        if pert == "prose_backticks":
            out.append(f"I updated `{path}` as asked.\n\n{fence}\n{text}{close(fence)}\n\n")
            continue
        lang = rng.choice(["", LANG[kinds[path]]])
        out.append(f"{styled_path(style, path)}\n{fence}{lang}\n{text}{close(fence)}\n\n")
    return "".join(out)


# ---------------------------------------------------------------------------------------------
# Cases.

PERTS = {
    "diff": [
        "none", "none", "deindent_both", "deindent_search", "indent_more", "trailing_ws",
        "blank_first", "trailing_blank", "elision", "several", "two_files", "crlf", "dup",
        "absent", "markdown", "markers", "mixed_names", "paths", "md_block",
    ],
    "udiff": [
        "none", "none", "wrong_numbers", "no_numbers", "no_context", "wrong_context",
        "lost_space", "dev_null", "deindent", "several", "two_files", "crlf", "markdown",
        "fence_context",
    ],
    "whole": [
        "none", "paths", "markdown", "indented_fence", "prose_backticks", "elision", "two_files",
        "crlf", "followup_cmd",
    ],
    "patch": [
        "none", "several", "two_files", "reindent", "trailing_ws", "prose_before", "no_end",
        "add_file", "crlf", "sentinels",
    ],
}
PERTS["diff-fenced"] = PERTS["diff"]


def make_case(rng, pool, fmt, n):
    pert = rng.choice(PERTS[fmt])
    if pert in ("markdown", "md_block", "fence_context"):
        kind = "markdown"
    elif pert in ("markers", "indented_fence", "sentinels"):
        kind = "python"
    else:
        kind = rng.choice([k for k in ("rust", "python", "python", "rust", "markdown") if pool[k]])
    nfiles = 2 if pert == "two_files" else 1
    files_lines, kinds = {}, {}
    for _ in range(nfiles):
        if pert == "markers":
            # aider's own sources hold the SEARCH/REPLACE markers (prompts, tests, its coder).
            cands = [p for p in pool["python"] if "<<<<<<< SEARCH" in _read(p)]
            p = rng.choice(cands) if cands else rng.choice(pool["python"])
            lines = _read(p).split("\n")[:-1]
            idx = next((j for j, line in enumerate(lines) if "<<<<<<< SEARCH" in line), 0)
            s = max(0, idx - rng.randint(3, 20))
            path, lines = case_path(p, "python"), lines[s : s + 60]
        elif pert == "sentinels":
            # aider's patch prompts and coder hold `*** End Patch` lines: edit just below one,
            # so it is a context line of the chunk.
            cands = [p for p in pool["python"] if "\n*** End Patch" in _read(p)]
            p = rng.choice(cands) if cands else rng.choice(pool["python"])
            lines = _read(p).split("\n")[:-1]
            ends = [j for j, line in enumerate(lines) if line.strip() == "*** End Patch"]
            idx = rng.choice(ends) if ends else 0
            s = max(0, idx - rng.randint(3, 20))
            path, lines = case_path(p, "python"), lines[s : s + 60]
        elif pert == "indented_fence":
            # A docstring showing a Markdown example: indented ``` lines, no unindented one.
            path, lines = pick_file(rng, pool, "python")
            lines = ['"""Example:', "", "    ```", "    run()", "    ```", '"""', ""] + lines
        else:
            path, lines = pick_file(rng, pool, kind)
        if path in files_lines:
            path = "other/" + path
        files_lines[path], kinds[path] = lines, kind
    paths = list(files_lines)

    # The meant edits: non-overlapping regions, applied bottom-up so indices stay valid.
    nedits = {"several": rng.randint(2, 3), "two_files": 2, "mixed_names": 2, "fence_context": 2}.get(pert, 1)
    edits = []
    taken = {p: [] for p in paths}
    for e in range(nedits):
        path = paths[e % len(paths)]
        lines = files_lines[path]
        if pert == "elision":
            k = rng.randint(7, 14)
        elif pert == "dup":
            k = 1
        else:
            k = rng.randint(1, 5)
        k = min(k, len(lines) - 1)
        i = choose_region(rng, lines, k, unique=pert != "dup", taken=taken[path])
        if pert == "markers":
            # SEARCH holds a `<<<<<<< SEARCH` line of the file (aider's prompts have them).
            heads = [j for j, line in enumerate(lines) if line.strip() == "<<<<<<< SEARCH"]
            i = None
            for _ in range(20):
                if not heads:
                    break
                h = rng.choice(heads)
                k = rng.randint(2, 4)
                j = max(0, h - rng.randint(0, k - 1))
                region = lines[j : j + k]
                if len(region) == k and region[0].strip() and region[-1].strip() \
                        and not any(x.strip().startswith(("=====", ">>>>>")) for x in region) \
                        and len(occurrences(lines, region)) == 1:
                    i = j
                    break
        if pert == "sentinels":
            ends = [j for j, line in enumerate(lines) if line.strip() == "*** End Patch"]
            i = None
            for _ in range(20):
                if not ends:
                    break
                j = rng.choice(ends) + rng.randint(1, 3)
                k = rng.randint(1, 2)
                region = lines[j : j + k]
                if len(region) == k and region[0].strip() and region[-1].strip() \
                        and len(occurrences(lines, region)) == 1:
                    i = j
                    break
        if pert == "md_block":
            # SEARCH is a whole code block of the Markdown file, its own ``` lines included.
            fences = [j for j, line in enumerate(lines) if line.startswith("```")]
            pairs = [(a, b) for a, b in zip(fences[::2], fences[1::2]) if b - a < 12]
            pairs = [(a, b) for a, b in pairs if len(occurrences(lines, lines[a : b + 1])) == 1]
            if not pairs:
                return None
            a, b = rng.choice(pairs)
            i, k = a, b - a + 1
        if pert == "dup":
            dups = [j for j in range(len(lines)) if lines[j].strip() and lines.count(lines[j]) > 1
                    and not lines[j].strip().startswith(("<<<<<<<", "=======", ">>>>>>>"))]
            if dups:
                first = lines.index(lines[rng.choice(dups)])
                i = first  # the first occurrence is the one both tools (and the contract) pick
        if i is None:
            return None
        op, new = meant_edit(rng, lines, kinds[path], i, k, n * 10 + e)
        if pert == "md_block":
            if rng.random() < 0.5:
                op, new = "insert in block", lines[i : i + k - 1] + [f"added_line_{n}()"] + [lines[i + k - 1]]
            else:
                op, new = "insert after block", lines[i : i + k] + ["", f"A line added by edit {n}."]
        taken[path].append((i, i + k))
        edits.append({"path": path, "kind": kinds[path], "at": i, "search": lines[i : i + k],
                      "replace": new, "op": op})
    edits.sort(key=lambda e: (paths.index(e["path"]), e["at"]))

    crlf_file = pert == "crlf" and rng.random() < 0.3
    eol = "\r\n" if crlf_file else "\n"
    files = {p: eol.join(ls) + eol for p, ls in files_lines.items()}
    after_lines = {p: list(ls) for p, ls in files_lines.items()}
    for e in sorted(edits, key=lambda e: -e["at"]):
        ls = after_lines[e["path"]]
        ls[e["at"] : e["at"] + len(e["search"])] = e["replace"]
    intended = {p: eol.join(ls) + eol if ls else "" for p, ls in after_lines.items()}
    if pert == "absent":
        intended = dict(files)
    fence = fence_for(files)

    # Styles of the path line, per edit.
    for j, e in enumerate(edits):
        e["style"] = "plain"
        if pert == "paths":
            e["style"] = rng.choice(PATH_STYLES)
        if pert == "mixed_names":
            e["style"] = "windows" if j % 2 else "plain"
    if pert == "mixed_names" and "/" not in paths[0]:
        return None
    if pert == "absent":
        e = edits[0]
        j = next(j for j, line in enumerate(e["search"]) if line.strip())
        e["search"] = list(e["search"])
        e["search"][j] = e["search"][j].replace(e["search"][j].strip()[:1], "§", 1)

    if fmt in ("diff", "diff-fenced"):
        if pert == "elision":
            e = edits[0]
            s, r = e["search"], e["replace"]
            # Elision pairs pieces by position: the meant edit changes the lines the pieces
            # show (two at each end) and keeps the elided middle.
            e["op"] = "elided rewrite"
            r = [line + comment(kinds[e["path"]], n) if line.strip() else line for line in s]
            ls = list(files_lines[e["path"]])
            ls[e["at"] : e["at"] + 2] = r[:2]
            ls[e["at"] + len(s) - 2 : e["at"] + len(s)] = r[-2:]
            intended[e["path"]] = eol.join(ls) + eol
            e["search"] = s[:2] + ["..."] + s[-2:]
            e["replace"] = r[:2] + ["..."] + r[-2:]
        reply = render_diff(rng, fmt, edits, fence, pert, files_lines)
        if pert in ("indent_more", "deindent_both", "deindent_search") and any(
            len(occurrences([x.strip() for x in files_lines[e["path"]]],
                            [x.strip() for x in e["search"]])) > 1
            for e in edits
        ):
            # SEARCH re-indented matches another run of the file as well (the same lines at
            # another indentation): the reply does not say which one is meant.
            return None
    elif fmt == "udiff":
        reply = render_udiff(rng, edits, pert, files_lines, files)
    elif fmt == "patch":
        reply = render_patch(rng, edits, pert, files_lines)
        if pert == "add_file":
            intended["notes/added.txt"] = "a new file\nwith two lines\n"
    else:
        new_files = {p: intended[p].replace("\r\n", "\n") for p in paths}
        if pert == "elision":
            p = paths[0]
            ls = new_files[p].split("\n")
            cut = len(ls) // 2
            mark = {"rust": "// ... rest of the file unchanged ...",
                    "python": "# ... rest of the file unchanged ...",
                    "markdown": "..."}[kinds[p]]
            new_files[p] = "\n".join(ls[:cut] + [mark]) + "\n"
            # The meant edit is the change above the elision, the rest kept.
        reply = render_whole(rng, new_files, files, pert, kinds, fence)
        if pert == "followup_cmd":
            # Follow-up prose: a command in a fence, a backticked word that is no file.
            word = rng.choice(["build.sh", "scripts/check.sh", "pytest", "Makefile"])
            lang = rng.choice(["", "", "sh", "text"])
            reply += f"Then run `{word}` to check it:\n\n{fence}{lang}\n./{word}\n{close(fence)}\n"
    if pert == "crlf":
        reply = reply.replace("\n", "\r\n")
    cid = f"gen-{fmt}-{n:05d}-{pert}"
    return {"id": cid, "format": fmt, "files": files, "reply": reply, "intended": intended,
            "source": "generated: " + ", ".join(f"{p} ({kinds[p]})" for p in paths)
            + f"; edits: {', '.join(e['op'] for e in edits)}"}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--count", type=int, default=1000, help="cases per format")
    ap.add_argument("--venv", default="target/aider-venv")
    ap.add_argument("--formats", default=",".join(FORMATS))
    ap.add_argument("--only-venv", action="store_true", help="edit only the venv's pinned files")
    args = ap.parse_args()
    pool = sources(args.venv, args.only_venv)
    for k, v in pool.items():
        if not v and not (args.only_venv and k == "rust"):
            raise SystemExit(f"gen.py: no {k} source files found (is the venv installed?)")
    for fmt in args.formats.split(","):
        rng = random.Random(f"{args.seed}-{fmt}")
        made = n = 0
        while made < args.count:
            n += 1
            case = make_case(rng, pool, fmt, n)
            if case is None:
                continue
            made += 1
            sys.stdout.write(json.dumps(case) + "\n")


if __name__ == "__main__":
    main()
