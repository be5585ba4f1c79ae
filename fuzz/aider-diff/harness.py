#!/usr/bin/env python3
"""harness.py — the differential test against aider: applies each case's reply to the case's
files with aider 0.86.2's own coder code (loaded unchanged from the venv of install.sh) and with
`codefleet apply` (the real binary), and classifies the pair against the case's intended result.

    harness.py CASES.jsonl [--codefleet BIN] [--results OUT.jsonl] [--disagreements OUT.md]

A case is one JSON object a line: {"id", "format" (diff, diff-fenced, udiff, whole, patch),
"files": {path: text}, "reply": text, "intended": {path: text} | null (the whole directory
after the edit that was meant; null when unknown), "source": where it comes from}.

Classes (against the intended result when known, else aider's and codefleet's bytes compared):
  same             both give the intended result (or, intent unknown, the same bytes)
  both_fail        neither gives it, and both leave the same bytes (usually: nothing applied)
  only_codefleet   codefleet gives the intended result, aider does not
  only_aider       aider gives the intended result, codefleet does not
  both_differ      neither gives it and their bytes differ
A codefleet result that is not the intended one while it exits 0 is also counted as `silent`,
and an exit other than 0, 1 or 2 (a panic, a timeout) as `crash`.
"""

import argparse
import contextlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import types
from pathlib import Path

FORMATS = ("diff", "diff-fenced", "udiff", "whole", "patch")
CLASSES = ("same", "both_fail", "only_codefleet", "only_aider", "both_differ")


# ---------------------------------------------------------------------------------------------
# aider, loaded unchanged. Its coders import base_coder, which imports litellm, git, rich,
# tree-sitter… for chat, commits and repo maps; none of that is on the path from a reply to the
# files. Those modules are replaced in sys.modules by empty stand-ins before base_coder loads;
# every function that parses a reply or edits a file is aider's own.


class _Anything:
    """Stands for a class or function of a stubbed module that the coders never call."""

    def __init__(self, *a, **k):
        pass

    def __call__(self, *a, **k):
        return _Anything()

    def __getattr__(self, name):
        return _Anything()


def _stub(name, **attrs):
    mod = types.ModuleType(name)
    mod.__getattr__ = lambda attr: _Anything  # any other name the import asks for
    for k, v in attrs.items():
        setattr(mod, k, v)
    sys.modules[name] = mod
    return mod


def load_aider():
    """Returns {format: coder class}, aider's own classes."""
    import importlib.util

    import aider  # the real package (its __init__ needs only `packaging`)

    _stub("rich")
    _stub("rich.console", Console=_Anything)
    for name in (
        "aider.models",
        "aider.analytics",
        "aider.commands",
        "aider.exceptions",
        "aider.history",
        "aider.io",
        "aider.linter",
        "aider.llm",
        "aider.repomap",
        "aider.run_cmd",
    ):
        _stub(name, RETRY_TIMEOUT=60)
    # aider/repo.py's ANY_GIT_ERROR without the git classes (GitPython is not installed): the
    # errors apply_updates catches after ValueError, as aider itself lists them.
    _stub(
        "aider.repo",
        ANY_GIT_ERROR=(
            OSError,
            IndexError,
            BufferError,
            TypeError,
            ValueError,
            AttributeError,
            AssertionError,
            TimeoutError,
        ),
        GitRepo=_Anything,
    )
    # aider/coders/__init__.py imports every coder (architect, help…, which pull in more);
    # the package is registered without running it, and only the five coders are loaded.
    coders_dir = Path(aider.__file__).parent / "coders"
    pkg = types.ModuleType("aider.coders")
    pkg.__path__ = [str(coders_dir)]
    pkg.__package__ = "aider.coders"
    sys.modules["aider.coders"] = pkg

    def load(mod):
        full = f"aider.coders.{mod}"
        spec = importlib.util.spec_from_file_location(full, coders_dir / f"{mod}.py")
        m = importlib.util.module_from_spec(spec)
        sys.modules[full] = m
        spec.loader.exec_module(m)
        return m

    return {
        "diff": load("editblock_coder").EditBlockCoder,
        "diff-fenced": load("editblock_fenced_coder").EditBlockFencedCoder,
        "udiff": load("udiff_coder").UnifiedDiffCoder,
        "whole": load("wholefile_coder").WholeFileCoder,
        "patch": load("patch_coder").PatchCoder,
    }


class AiderIO:
    """aider.io.InputOutput's file methods as aider 0.86.2 writes them (io.py, read_text and
    write_text: text mode, utf-8, so CRLF is read as LF and written as LF), saying yes to every
    question, as `aider --yes-always` does."""

    encoding = "utf-8"
    newline = None
    dry_run = False

    def __init__(self):
        self.messages = []

    def read_text(self, filename, silent=False):
        try:
            with open(str(filename), "r", encoding=self.encoding) as f:
                return f.read()
        except (FileNotFoundError, IsADirectoryError, OSError, UnicodeError) as err:
            if not silent:
                self.messages.append(f"{filename}: {err}")
            return None

    def write_text(self, filename, content, max_retries=5, initial_delay=0.1):
        with open(str(filename), "w", encoding=self.encoding, newline=self.newline) as f:
            f.write(content)

    def confirm_ask(self, *a, **k):
        return True

    def tool_output(self, *a, **k):
        self.messages.extend(str(x) for x in a)

    tool_error = tool_warning = tool_output


class _Model:
    def token_count(self, text):
        return len(text or "") // 4


class _Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise _Timeout()


def setup_coder(coder, root, chat_files, reply):
    """The state apply_updates reads, as Coder.__init__ leaves it for these chat files."""
    from aider import utils

    coder.root = str(root)
    coder.abs_root_path_cache = {}
    coder.io = AiderIO()
    coder.abs_fnames = {utils.safe_abs_path(Path(root) / p) for p in chat_files}
    coder.abs_read_only_fnames = set()
    coder.repo = None
    coder.dry_run = False
    coder.dirty_commits = False
    coder.main_model = _Model()
    coder.shell_commands = []
    coder.num_malformed_responses = 0
    coder.reflected_message = None
    coder.partial_response_content = reply
    coder.multi_response_content = ""


def run_aider(coder_cls, root, reply, timeout=20):
    """Applies `reply` in `root` with aider's coder: every file there is in the chat (as with
    `aider --yes-always FILES…`), the fence is the one aider's choose_fence picks for them,
    and apply_updates (base_coder.py) runs exactly as after a model's reply. Returns
    (edited paths, error text or None)."""
    coder = coder_cls.__new__(coder_cls)  # no __init__: it sets up models, git, a repo map
    setup_coder(coder, root, sorted(files_in(root)), reply)
    coder.choose_fence()
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(timeout)
    sink = io.StringIO()
    try:
        with contextlib.redirect_stderr(sink), contextlib.redirect_stdout(sink):
            edited = coder.apply_updates()
        error = coder.reflected_message
        if error is None and any("Exception" in m or "Error" in m for m in coder.io.messages):
            error = "\n".join(coder.io.messages)
    except _Timeout:
        edited, error = set(), f"aider took more than {timeout}s"
    except BaseException as err:  # aider's own crash is a result too
        edited, error = set(), f"aider raised {type(err).__name__}: {err}"
    finally:
        signal.alarm(0)
    return sorted(edited or []), error


# ---------------------------------------------------------------------------------------------
# codefleet, the real binary.


def run_codefleet(binary, fmt, root, reply_path, timeout=60):
    try:
        p = subprocess.run(
            [binary, "apply", "--format", fmt, "--color", "never", str(reply_path)],
            cwd=root,
            capture_output=True,
            timeout=timeout,
        )
        return p.returncode, p.stderr.decode("utf-8", "replace")
    except subprocess.TimeoutExpired:
        return -1, f"codefleet took more than {timeout}s"


# ---------------------------------------------------------------------------------------------
# Cases.


def files_in(root):
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d != ".git"]
        for f in filenames:
            full = Path(dirpath) / f
            if full.is_file() and not full.is_symlink():
                out.append(full.relative_to(root).as_posix())
    return out


def write_tree(root, files):
    for path, text in files.items():
        full = Path(root) / path
        full.parent.mkdir(parents=True, exist_ok=True)
        with open(full, "w", encoding="utf-8", newline="", errors="surrogateescape") as f:
            f.write(text)


def snapshot(root):
    out = {}
    for p in files_in(root):
        out[p] = (Path(root) / p).read_bytes().decode("utf-8", "surrogateescape")
    return out


def classify(intended, before, a, c):
    if intended is not None:
        a_ok, c_ok = a == intended, c == intended
        if a_ok and c_ok:
            return "same"
        if a_ok:
            return "only_aider"
        if c_ok:
            return "only_codefleet"
    elif a == c:
        return "same"
    if a == c:
        return "both_fail"
    if intended is None:
        return "both_differ"
    # Neither is right: "both fail" when at most one changed anything.
    if a == before or c == before:
        return "both_fail"
    return "both_differ"


def run_case(case, coders, binary, work):
    fmt = case["format"]
    a_root, c_root = work / "a", work / "c"
    for d in (a_root, c_root):
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir(parents=True)
        write_tree(d, case["files"])
    reply_path = work / "reply.txt"
    with open(reply_path, "w", encoding="utf-8", newline="", errors="surrogateescape") as f:
        f.write(case["reply"])
    a_edited, a_error = run_aider(coders[fmt], a_root, case["reply"])
    c_exit, c_stderr = run_codefleet(binary, fmt, c_root, reply_path)
    a_after, c_after = snapshot(a_root), snapshot(c_root)
    intended = case.get("intended")
    cls = classify(intended, case["files"], a_after, c_after)
    return {
        "id": case["id"],
        "format": fmt,
        "source": case.get("source", ""),
        "class": cls,
        "aider_ok": None if intended is None else a_after == intended,
        "codefleet_ok": None if intended is None else c_after == intended,
        "codefleet_exit": c_exit,
        "silent": intended is not None and c_exit == 0 and c_after != intended,
        # Exit 101 is a Rust panic; a negative one a timeout or a signal.
        "crash": c_exit not in (0, 1, 2),
        "aider_error": a_error,
        "codefleet_stderr": c_stderr,
        "aider_after": a_after,
        "codefleet_after": c_after,
    }


def summary(results):
    lines = []
    head = (
        f"{'format':<12} {'cases':>6} {'known':>6} {'aider ok':>9} {'codefleet ok':>13}  "
        + " ".join(f"{c:>14}" for c in CLASSES)
        + f" {'cf silent':>9} {'cf crash':>8}"
    )
    lines.append(head)
    for fmt in FORMATS + ("all",):
        rs = [r for r in results if fmt in ("all", r["format"])]
        if not rs:
            continue
        known = [r for r in rs if r["aider_ok"] is not None]
        a = sum(1 for r in known if r["aider_ok"])
        c = sum(1 for r in known if r["codefleet_ok"])

        def pct(n):
            return f"{100 * n / len(known):5.1f}%" if known else "    -"

        counts = {k: sum(1 for r in rs if r["class"] == k) for k in CLASSES}
        silent = sum(1 for r in rs if r["silent"])
        crash = sum(1 for r in rs if r["crash"])
        lines.append(
            f"{fmt:<12} {len(rs):>6} {len(known):>6} {pct(a):>9} {pct(c):>13}  "
            + " ".join(f"{counts[k]:>14}" for k in CLASSES)
            + f" {silent:>9} {crash:>8}"
        )
    return "\n".join(lines)


def tag(result):
    """What a case exercises: its perturbation for generated cases, else where it comes from."""
    cid = result["id"]
    if cid.startswith("gen-"):
        return cid.rsplit("-", 1)[1]
    return "aider-tests" if cid.startswith("aider-test-") else cid.rsplit("-", 1)[0]


def breakdown(results):
    """Per format and tag, the cases where the tools disagree or codefleet is silently wrong."""
    rows = {}
    for r in results:
        row = rows.setdefault((r["format"], tag(r)), dict.fromkeys(CLASSES + ("silent", "cases"), 0))
        row[r["class"]] += 1
        row["silent"] += r["silent"]
        row["cases"] += 1
    keys = ("cases", "only_aider", "only_codefleet", "both_differ", "both_fail", "silent")
    lines = [f"{'format':<12} {'tag':<16} " + " ".join(f"{k:>14}" for k in keys)]
    for (fmt, t), row in sorted(rows.items(), key=lambda kv: (FORMATS.index(kv[0][0]), kv[0][1])):
        if row["cases"] == row["same"]:
            continue
        lines.append(f"{fmt:<12} {t:<16} " + " ".join(f"{row[k]:>14}" for k in keys))
    return "\n".join(lines)


def _show_files(files):
    out = []
    for p in sorted(files):
        out.append(f"--- {p!r}\n{files[p]}")
    return "\n".join(out) if out else "(no files)"


def write_disagreements(path, cases, results):
    by_id = {c["id"]: c for c in cases}
    with open(path, "w", encoding="utf-8", errors="surrogateescape") as f:
        for r in results:
            if r["class"] in ("same", "both_fail"):
                continue
            case = by_id[r["id"]]
            f.write(f"## {r['id']} — {r['format']} — {r['class']}\n\nsource: {r['source']}\n")
            f.write(f"codefleet exit {r['codefleet_exit']}; aider error: {r['aider_error']!r}\n\n")
            f.write("### reply\n\n" + _fence(case["reply"]))
            f.write("### files before\n\n" + _fence(_show_files(case["files"])))
            if case.get("intended") is not None:
                f.write("### intended\n\n" + _fence(_show_files(case["intended"])))
            f.write("### aider\n\n" + _fence(_show_files(r["aider_after"])))
            f.write("### codefleet\n\n" + _fence(_show_files(r["codefleet_after"])))
            f.write("codefleet stderr:\n\n" + _fence(r["codefleet_stderr"]))


def _fence(text):
    ticks = "`" * 3
    while ticks in text:
        ticks += "`"
    return f"{ticks}\n{text}\n{ticks}\n\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("cases")
    ap.add_argument("--codefleet", default=os.environ.get("CODEFLEET", "codefleet"))
    ap.add_argument("--results", help="write one JSON result per case here")
    ap.add_argument("--disagreements", help="write the disagreeing cases here, for reading")
    ap.add_argument("--only", help="run only cases whose id contains this")
    ap.add_argument("--breakdown", action="store_true", help="also print classes per tag")
    args = ap.parse_args()
    binary = args.codefleet
    binary = os.path.abspath(binary) if os.sep in binary else shutil.which(binary) or binary
    coders = load_aider()
    cases = [json.loads(line) for line in open(args.cases, encoding="utf-8") if line.strip()]
    if args.only:
        cases = [c for c in cases if args.only in c["id"]]
    results = []
    work = Path(tempfile.mkdtemp(prefix="aider-diff-"))
    try:
        for case in cases:
            results.append(run_case(case, coders, binary, work))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.results:
        with open(args.results, "w", encoding="utf-8", errors="surrogateescape") as f:
            for r in results:
                f.write(json.dumps(r) + "\n")
    if args.disagreements:
        write_disagreements(args.disagreements, cases, results)
    print(summary(results))
    if args.breakdown:
        print()
        print(breakdown(results))


if __name__ == "__main__":
    main()
