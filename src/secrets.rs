//! Secret-looking text: the pre-send scan that keeps private keys and cloud credentials out of
//! model requests (a task opts out with `allow_secrets: true`), and [`redact`], which keeps API
//! keys and tokens out of logs, reports, commit messages and error text.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::Regex;

/// Something in a text that looks like a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// What it looks like, as a phrase: `a PEM private key block`, `a GitHub token`…
    pub kind: &'static str,
    /// The 1-based line it starts on.
    pub line: usize,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (line {})", self.kind, self.line)
    }
}

/// One kind of secret: its phrase, the pattern the scan looks for, and the pattern redaction
/// replaces (the whole PEM block, not just its first line).
struct Rule {
    kind: &'static str,
    find: Regex,
    redact: Regex,
}

fn rule(kind: &'static str, find: &str, redact: &str) -> Option<Rule> {
    Some(Rule {
        kind,
        find: Regex::new(find).ok()?,
        redact: Regex::new(redact).ok()?,
    })
}

/// Token shapes published by their issuers; each is specific enough not to match code.
static RULES: LazyLock<Vec<Rule>> = LazyLock::new(|| {
    const PEM: &str = r"-----BEGIN(?: [A-Z0-9]+)* PRIVATE KEY(?: BLOCK)?-----";
    [
        rule(
            "a PEM private key block",
            PEM,
            &format!(r"(?s){PEM}.*?(?:-----END[A-Z0-9 ]*-----|\z)"),
        ),
        rule(
            "an AWS secret access key",
            r#"(?i)aws_?secret_?access_?key["']?\s*[:=]\s*["']?[A-Za-z0-9/+]{40}\b"#,
            r#"(?i)aws_?secret_?access_?key["']?\s*[:=]\s*["']?[A-Za-z0-9/+]{40}\b"#,
        ),
        rule(
            "a GitHub token",
            r"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b",
            r"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b",
        ),
        rule(
            "a Slack token",
            r"\bxox[abposr]-[A-Za-z0-9-]{10,}",
            r"\bxox[abposr]-[A-Za-z0-9-]{10,}",
        ),
        rule(
            "a Google API key",
            r"\bAIza[0-9A-Za-z_\-]{35}",
            r"\bAIza[0-9A-Za-z_\-]{35}",
        ),
        rule(
            "an OpenAI or Anthropic API key",
            r"\bsk-(?:ant-|proj-)?[A-Za-z0-9_\-]{32,}",
            r"\bsk-(?:ant-|proj-)?[A-Za-z0-9_\-]{32,}",
        ),
        rule(
            "a Stripe secret key",
            r"\b[rs]k_live_[0-9A-Za-z]{20,}",
            r"\b[rs]k_live_[0-9A-Za-z]{20,}",
        ),
    ]
    .into_iter()
    .flatten()
    .collect()
});

/// An AWS access key id; a secret only with a 40-character secret key near it (an id alone is
/// not a credential, and ids appear in documentation).
static AWS_ID: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b").ok());
static AWS_SECRET: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(?:^|[^A-Za-z0-9/+])[A-Za-z0-9/+]{40}(?:$|[^A-Za-z0-9/+=])").ok()
});
/// `Authorization: Bearer …` and the like, in logs and error text.
static BEARER: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"(?i)\b(bearer|token)\s+[A-Za-z0-9._~+/\-]{20,}=*").ok());

/// How far around an AWS key id its secret key is looked for, in bytes.
const AWS_NEAR: usize = 400;

/// The first thing in `text` that looks like a private key or a cloud credential, if any.
pub fn scan(text: &str) -> Option<Finding> {
    let mut first: Option<(usize, &'static str)> = None;
    let mut note = |at: usize, kind: &'static str| {
        if first.is_none_or(|(f, _)| at < f) {
            first = Some((at, kind));
        }
    };
    for r in RULES.iter() {
        if let Some(m) = r.find.find(text) {
            note(m.start(), r.kind);
        }
    }
    if let (Some(id), Some(secret)) = (AWS_ID.as_ref(), AWS_SECRET.as_ref()) {
        for m in id.find_iter(text) {
            let from = floor(text, m.start().saturating_sub(AWS_NEAR));
            let to = floor(text, (m.end() + AWS_NEAR).min(text.len()));
            let near = format!("{}\n{}", &text[from..m.start()], &text[m.end()..to]);
            if secret.is_match(&near) {
                note(m.start(), "an AWS access key id with its secret key");
                break;
            }
        }
    }
    first.map(|(at, kind)| Finding {
        kind,
        line: text[..at].bytes().filter(|&b| b == b'\n').count() + 1,
    })
}

/// The largest char boundary at or below `i`.
fn floor(text: &str, mut i: usize) -> usize {
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// `text` with every API key, token and private key block replaced by `[redacted]` (a bearer
/// token keeps its `Bearer` word). Borrowed when there is nothing to hide.
pub fn redact(text: &str) -> Cow<'_, str> {
    let mut out = Cow::Borrowed(text);
    for r in RULES.iter() {
        if r.redact.is_match(&out) {
            out = Cow::Owned(r.redact.replace_all(&out, "[redacted]").into_owned());
        }
    }
    if let Some(id) = AWS_ID.as_ref()
        && id.is_match(&out)
    {
        out = Cow::Owned(id.replace_all(&out, "[redacted]").into_owned());
    }
    if let Some(bearer) = BEARER.as_ref()
        && bearer.is_match(&out)
    {
        out = Cow::Owned(bearer.replace_all(&out, "$1 [redacted]").into_owned());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Secret shapes the scan must catch, built at run time so this file holds none.
    fn secrets() -> Vec<(String, &'static str)> {
        let a = "A".repeat(36);
        vec![
            (
                format!(
                    "x\n-----BEGIN RSA {}-----\nMIIE\n-----END RSA PRIVATE KEY-----\n",
                    "PRIVATE KEY"
                ),
                "a PEM private key block",
            ),
            (
                format!("-----BEGIN {}-----\nabc\n", "PRIVATE KEY"),
                "a PEM private key block",
            ),
            (
                format!("-----BEGIN OPENSSH {}-----\n", "PRIVATE KEY"),
                "a PEM private key block",
            ),
            (
                format!("-----BEGIN PGP {} BLOCK-----\n", "PRIVATE KEY"),
                "a PEM private key block",
            ),
            (
                format!(
                    "[default]\naws_access_key_id = {}{}\naws_secret_access_key = {}\n",
                    "AKIA", "IOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
                ),
                "an AWS access key id with its secret key",
            ),
            (
                format!(
                    "AWS_SECRET_ACCESS_KEY: \"{}\"",
                    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
                ),
                "an AWS secret access key",
            ),
            (format!("token = \"ghp_{a}\""), "a GitHub token"),
            (format!("gho_{a}"), "a GitHub token"),
            (format!("github_pat_{}", "1".repeat(30)), "a GitHub token"),
            (format!("xoxb-{}-abcdef", "1234567890"), "a Slack token"),
            (format!("key: AIza{}", "x".repeat(35)), "a Google API key"),
            (
                format!("OPENAI_API_KEY=sk-proj-{}", "a".repeat(40)),
                "an OpenAI or Anthropic API key",
            ),
            (
                format!("sk-ant-{}", "b".repeat(40)),
                "an OpenAI or Anthropic API key",
            ),
            (format!("sk_live_{}", "c".repeat(24)), "a Stripe secret key"),
        ]
    }

    #[test]
    fn every_secret_shape_is_found_and_redacted() {
        for (text, kind) in secrets() {
            let found = scan(&text).unwrap_or_else(|| panic!("not found: {text}"));
            assert_eq!(found.kind, kind, "{text}");
            let clean = redact(&text);
            assert!(clean.contains("[redacted]"), "{clean}");
            assert!(
                scan(&clean).is_none(),
                "still a secret after redaction: {clean}"
            );
        }
    }

    #[test]
    fn ordinary_code_is_not_a_secret() {
        for text in [
            "fn main() { let key = read_key(); }\n",
            "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----\n",
            "-----BEGIN CERTIFICATE-----\n",
            "The id AKIAIOSFODNN7EXAMPLE appears in AWS docs.\n",
            "sha = 0123456789abcdef0123456789abcdef01234567\n",
            "let sk = \"sk-short\";\n",
            "ghp_short",
            "",
        ] {
            assert_eq!(scan(text), None, "{text}");
            assert!(matches!(redact(text), Cow::Borrowed(_)) || text.contains("AKIA"));
        }
    }

    #[test]
    fn the_line_is_where_the_secret_starts() {
        let text = format!("a\nb\n\nghp_{}\n", "Z".repeat(36));
        assert_eq!(scan(&text).unwrap().line, 4);
    }

    #[test]
    fn bearer_tokens_keep_their_word() {
        assert_eq!(
            redact("Authorization: Bearer abcdefghijklmnopqrstuvwxyz0123"),
            "Authorization: Bearer [redacted]"
        );
    }

    #[test]
    fn a_pem_block_is_redacted_whole() {
        let text = format!(
            "before\n-----BEGIN EC {k}-----\nMHcCAQEE\nzzz\n-----END EC {k}-----\nafter\n",
            k = "PRIVATE KEY"
        );
        assert_eq!(redact(&text), "before\n[redacted]\nafter\n");
    }

    #[test]
    fn error_text_never_shows_a_token() {
        let token = format!("ghp_{}", "T".repeat(36));
        let e = crate::error::Error::new("E400", format!("the provider said: bad key {token}"))
            .hint(format!("check {token}"));
        assert!(!e.render(false).contains(&token), "{}", e.render(false));
        assert!(!e.to_string().contains(&token));
        assert!(e.render(false).contains("bad key [redacted]"));
        let message = crate::git::with_trailers(&format!("use {token}"), &[("K", &token)]);
        assert_eq!(message, "use [redacted]\n\nK: [redacted]\n");
    }

    proptest::proptest! {
        #[test]
        fn never_panics(text in "\\PC{0,600}") {
            let _ = scan(&text);
            let _ = redact(&text);
        }
    }
}
