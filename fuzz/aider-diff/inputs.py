#!/usr/bin/env python3
"""inputs.py — differential cases from aider's own material, in the aider-chat 0.86.2 sdist that
install.sh unpacks next to the venv:

  aider-tests   aider's unit tests (tests/basic/test_editblock.py, test_udiff.py) are run with
                their parse and replace functions recorded: every reply they parse and every
                replace they check, in a test that passes, becomes a case. The intended result
                is what the test asserts (the blocks or hunks it expects, applied to files that
                hold their SEARCH or `-` text).
  chat-history  real model replies: tests/fixtures/chat-history.md, aider's own development
                chat history (replies of GPT-4 and Claude models, 2023-2024), split into
                sections as aider's test_find_or_blocks.py does; each section with SEARCH/REPLACE
                blocks is a case whose intended result is the parse aider's gold file
                (tests/fixtures/chat-history-search-replace-gold.txt) records, applied to files
                that hold the SEARCH texts.

    inputs.py [--venv target/aider-venv] [--history N] [--seed S] > cases.jsonl
"""

import argparse
import contextlib
import io
import importlib.util
import json
import random
import re
import sys
import unittest
from pathlib import Path

sys.dont_write_bytecode = True  # no __pycache__ left in the source tree
sys.path.insert(0, str(Path(__file__).parent))
import harness  # noqa: E402  (loads aider's coders with the stubs)

SEP = "# ---- unrelated lines between the edited places ({}) ----\n"


def _nl(text):
    return text if not text or text.endswith("\n") else text + "\n"


def safe_path(p):
    return (
        p
        and "\n" not in p
        and not p.startswith(("/", "\\"))
        and ".." not in Path(p.replace("\\", "/")).parts
        and len(p) < 200
        and not p.startswith(".git")
    )


def build(blocks, known=()):
    """Files holding every SEARCH text of `blocks` ((path, search, replace) in reply order),
    and the result of replacing each, in order, at its first occurrence. None when a SEARCH
    is not found as whole lines at its turn (the intent is then unknown)."""
    files = {}
    for path, search, _ in blocks:
        if not safe_path(path):
            return None
        if search.strip():
            text = files.get(path, "")
            files[path] = text + (SEP.format(len(text)) if text else "") + _nl(search)
    for k in known:
        if safe_path(k) and k not in files and k not in {b[0] for b in blocks}:
            files[k] = "placeholder\n"
    after = dict(files)
    for path, search, replace in blocks:
        text = after.get(path)
        if not search.strip():
            after[path] = (text or "") + replace if text is None or text.endswith("\n") or not text else text + "\n" + replace
            continue
        if text is None:
            return None
        s = _nl(search)
        at = ("\n" + text).find("\n" + s)
        if at < 0:
            return None
        after[path] = text[:at] + _nl(replace) + text[at + len(s) :] if replace else text[:at] + text[at + len(s) :]
    return files, after


def fence_file(fence):
    """A file that makes aider's choose_fence pick `fence`: it holds a line starting with each
    fence aider would try before it."""
    from aider.coders.base_coder import all_fences

    earlier = [f[0] for f in all_fences[: all_fences.index(tuple(fence))]]
    return "".join(f + "\n" for f in earlier)


def from_aider_tests(sdist, coders):
    eb = sys.modules["aider.coders.editblock_coder"]
    ud = sys.modules["aider.coders.udiff_coder"]
    pkg = sys.modules["aider.coders"]
    pkg.Coder = sys.modules["aider.coders.base_coder"].Coder
    records = []
    current = {"test": None}

    orig_find = eb.find_original_update_blocks
    orig_replace = eb.replace_most_similar_chunk
    orig_diffs = ud.find_diffs

    def find_blocks(content, fence=eb.DEFAULT_FENCE, valid_fnames=None):
        out = list(orig_find(content, fence, valid_fnames))
        records.append((current["test"], "blocks", content, fence, valid_fnames, out))
        return out

    def replace_chunk(whole, part, replace):
        out = orig_replace(whole, part, replace)
        records.append((current["test"], "replace", whole, part, replace, out))
        return out

    def find_diffs(content):
        out = orig_diffs(content)
        records.append((current["test"], "diffs", content, None, None, out))
        return out

    eb.find_original_update_blocks = find_blocks
    eb.replace_most_similar_chunk = replace_chunk
    passed = set()
    for name in ("test_editblock", "test_udiff"):
        spec = importlib.util.spec_from_file_location(name, sdist / "tests/basic" / f"{name}.py")
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        if hasattr(mod, "find_diffs"):
            mod.find_diffs = find_diffs
        for test in unittest.TestLoader().loadTestsFromModule(mod):
            for t in test:
                current["test"] = f"{name}.{t._testMethodName}"
                result = unittest.TestResult()
                with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                    t.run(result)
                if result.wasSuccessful():
                    passed.add(current["test"])
    eb.find_original_update_blocks = orig_find
    eb.replace_most_similar_chunk = orig_replace

    cases = []
    for j, (test, kind, content, fence, extra, out) in enumerate(records):
        if test not in passed:
            continue
        cid = f"aider-test-{test}-{j}"
        src = f"aider-chat 0.86.2 sdist, tests/basic/{test.split('.')[0]}.py::{test.split('.')[1]}"
        if kind == "replace":
            whole, part, replace = content, fence, extra
            if out is None or not part.strip():
                continue
            reply = f"file.txt\n```\n<<<<<<< SEARCH\n{_nl(part)}=======\n{_nl(replace)}>>>>>>> REPLACE\n```\n"
            cases.append(dict(id=cid, format="diff", files={"file.txt": whole}, reply=reply,
                              intended={"file.txt": out}, source=src))
        elif kind == "blocks":
            blocks = [b for b in out if b[0] is not None]
            if not blocks:
                continue
            built = build(blocks, extra or ())
            if built is None:
                continue
            files, after = built
            if fence and fence[0] != "```":
                files["fence.md"] = after["fence.md"] = fence_file(fence)
            cases.append(dict(id=cid, format="diff", files=files, reply=content, intended=after,
                              source=src))
        else:
            blocks = []
            for path, hunk in out:
                before, after_text = ud.hunk_to_before_after(hunk)
                blocks.append((path, before, after_text))
            built = build(blocks)
            if built is None:
                continue
            files, after = built
            cases.append(dict(id=cid, format="udiff", files=files, reply=content, intended=after,
                              source=src))
    return cases


def from_wholefile_tests(sdist):
    """tests/basic/test_wholefile.py builds WholeFileCoder(main_model, io, fnames) in a temp
    directory, sets a reply and calls apply_updates. The constructor is replaced by the
    harness's setup (the same state, without model or git); each apply_updates of a passing
    test is recorded with the directory before and after it."""
    import os

    W = sys.modules["aider.coders.wholefile_coder"].WholeFileCoder
    records, current = [], {"test": None}

    def init(self, main_model=None, io=None, fnames=(), **kw):
        root = os.getcwd()
        chat = [os.path.relpath(Path(f).resolve(), root) for f in fnames]
        harness.setup_coder(self, root, chat, "")

    orig_apply = W.apply_updates

    def apply_updates(self):
        before = harness.snapshot(self.root)
        out = orig_apply(self)
        records.append((current["test"], before, self.partial_response_content, harness.snapshot(self.root)))
        return out

    saved = W.__init__
    W.__init__, W.apply_updates = init, apply_updates
    passed = set()
    try:
        spec = importlib.util.spec_from_file_location("test_wholefile", sdist / "tests/basic/test_wholefile.py")
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        for test in unittest.TestLoader().loadTestsFromModule(mod):
            for t in test:
                current["test"] = f"test_wholefile.{t._testMethodName}"
                result = unittest.TestResult()
                with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                    t.run(result)
                if result.wasSuccessful():
                    passed.add(current["test"])
    finally:
        W.__init__, W.apply_updates = saved, orig_apply
    cases = []
    for j, (test, before, reply, after) in enumerate(records):
        if test in passed and before and after != before:
            cases.append(dict(id=f"aider-test-{test}-{j}", format="whole", files=before,
                              reply=reply, intended=after,
                              source=f"aider-chat 0.86.2 sdist, tests/basic/test_wholefile.py::{test.split('.')[1]}"))
    return cases


def gold_sections(sdist):
    """aider's gold parse of chat-history.md: {section header: [(path, search, replace)]}."""
    text = (sdist / "tests/fixtures/chat-history-search-replace-gold.txt").read_text("utf-8")
    out = {}
    for part in re.split(r"\n\n@@@ (?=.*@{20}\n)", "\n\n" + text):
        if not part.strip():
            continue
        header, _, body = part.partition(" " + "@" * 20 + "\n")
        blocks = []
        for m in re.finditer(
            r"@@@ SEARCH: (.*?) @{20}\n(.*?)@{20}\n(.*?)@@@ REPLACE @{20}\n", body, re.S
        ):
            blocks.append((m.group(1), m.group(2), m.group(3)))
        out.setdefault(header, blocks)
    return out


def from_chat_history(sdist, count, seed, coders):
    from aider.coders.base_coder import all_fences

    eb = sys.modules["aider.coders.editblock_coder"]
    content = (sdist / "tests/fixtures/chat-history.md").read_text("utf-8")
    gold = gold_sections(sdist)
    cases = []
    for k, section in enumerate(re.split(r"(?=####\s)", content)):
        if "editblock_coder.py" in section or "test_editblock.py" in section or not section.strip():
            continue
        header = section.split("\n")[0].strip()
        reply = "".join(section.splitlines(keepends=True)[1:])
        for fence in all_fences[1:] + all_fences[:1]:
            if "\n" + fence[0] in reply:
                break
        try:
            blocks = [b for b in eb.find_original_update_blocks(reply, fence) if b[0] is not None]
        except ValueError:
            continue
        if not blocks or gold.get(header) != blocks:
            continue  # only sections whose parse the gold file records
        built = build(blocks)
        if built is None:
            continue
        files, after = built
        if fence[0] != "```":
            files["fence.md"] = after["fence.md"] = fence_file(fence)
        cases.append(dict(id=f"chat-history-{k:05d}", format="diff", files=files, reply=reply,
                          intended=after,
                          source=f"aider-chat 0.86.2 sdist, tests/fixtures/chat-history.md, section {k}: {header[:80]}"))
    rng = random.Random(seed)
    if count < len(cases):
        cases = sorted(rng.sample(cases, count), key=lambda c: c["id"])
    return cases


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--venv", default="target/aider-venv")
    ap.add_argument("--history", type=int, default=100000, help="chat-history sections at most")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-tests", action="store_true")
    args = ap.parse_args()
    sdist = Path(args.venv) / "aider-sdist"
    coders = harness.load_aider()
    cases = [] if args.no_tests else from_aider_tests(sdist, coders) + from_wholefile_tests(sdist)
    cases += from_chat_history(sdist, args.history, args.seed, coders)
    for c in cases:
        sys.stdout.write(json.dumps(c) + "\n")


if __name__ == "__main__":
    main()
