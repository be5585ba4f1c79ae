//! The file modes a git patch sets (`new file mode 100755`, `old mode`/`new mode`), which the
//! edit engine does not carry: it deals in content, and a mode-only section has none.

use super::udiff::{header_path, split_git_header, unquote};

/// One file whose mode a patch sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModeChange {
    /// The path the file has after the patch (a rename's new path).
    pub path: String,
    /// The mode it had, when the patch says (`old mode`).
    pub old: Option<u32>,
    /// The mode it gets (`new mode` or `new file mode`), as octal digits read.
    pub new: u32,
    /// 1-based line of the `diff --git` header.
    pub line: usize,
}

#[derive(Default)]
struct Section {
    line: usize,
    git_b: Option<String>,
    plus: Option<String>,
    rename_to: Option<String>,
    old: Option<u32>,
    new: Option<u32>,
}

impl Section {
    fn finish(self, out: &mut Vec<ModeChange>) {
        let Some(new) = self.new else { return };
        let path = self
            .rename_to
            .or(self.plus.filter(|p| p != "/dev/null"))
            .or(self.git_b);
        if let Some(path) = path {
            out.push(ModeChange {
                path,
                old: self.old,
                new,
                line: self.line,
            });
        }
    }
}

/// The modes set by the `diff --git` sections of a patch file, in patch order. Modes git
/// cannot have (not octal) are left out; the caller decides which modes it accepts.
pub fn modes(text: &str) -> Vec<ModeChange> {
    let mut out = Vec::new();
    let mut sec: Option<Section> = None;
    let mut in_header = false;
    let octal = |s: &str| u32::from_str_radix(s.trim(), 8).ok();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if let Some(rest) = line.strip_prefix("diff --git ") {
            if let Some(s) = sec.take() {
                s.finish(&mut out);
            }
            let (_, b) = split_git_header(rest);
            sec = Some(Section {
                line: i + 1,
                git_b: b,
                ..Section::default()
            });
            in_header = true;
            continue;
        }
        let Some(s) = sec.as_mut().filter(|_| in_header) else {
            continue;
        };
        if line.starts_with("@@") {
            in_header = false;
        } else if let Some(m) = line.strip_prefix("new file mode ") {
            s.new = octal(m);
        } else if let Some(m) = line.strip_prefix("new mode ") {
            s.new = octal(m);
        } else if let Some(m) = line.strip_prefix("old mode ") {
            s.old = octal(m);
        } else if let Some(p) = line.strip_prefix("rename to ") {
            s.rename_to = Some(unquote(p));
        } else if let Some(p) = line.strip_prefix("+++ ") {
            s.plus = Some(header_path(p, "b/"));
        }
    }
    if let Some(s) = sec.take() {
        s.finish(&mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_files_mode_changes_and_renames() {
        let text = "diff --git a/run.sh b/run.sh\nnew file mode 100755\nindex 0000000..e69de29\n--- /dev/null\n+++ b/run.sh\n@@ -0,0 +1 @@\n+echo\ndiff --git a/x.sh b/x.sh\nold mode 100644\nnew mode 100755\ndiff --git a/a b/b\nold mode 100755\nnew mode 100644\nsimilarity index 100%\nrename from a\nrename to b\ndiff --git a/plain b/plain\n--- a/plain\n+++ b/plain\n@@ -1 +1 @@\n-new mode 100755\n+x\n";
        let got = modes(text);
        let brief: Vec<(&str, Option<u32>, u32)> = got
            .iter()
            .map(|m| (m.path.as_str(), m.old, m.new))
            .collect();
        assert_eq!(
            brief,
            [
                ("run.sh", None, 0o100755),
                ("x.sh", Some(0o100644), 0o100755),
                ("b", Some(0o100755), 0o100644),
            ]
        );
        assert_eq!(got[1].line, 8);
    }
}
