//! `codefleet config`: the resolved settings, one per line, each with the layer it came from;
//! `--json` prints the same as one JSON object. Also turns the global flags into
//! [`settings::Flags`](crate::settings::Flags).

use serde_json::{Map, Value, json};

use super::Out;
use super::args::{ColorChoice, ConfigArgs, GlobalArgs, LogFormat};
use super::errors::stream_error;
use crate::error::{Error, Exit};
use crate::settings::{ColorMode, Flags, Settings, Shown};

/// The settings-relevant part of the command line.
pub fn flags(global: &GlobalArgs) -> Flags {
    Flags {
        config: global.config.clone(),
        profile: global.profile.clone(),
        jobs: global.jobs,
        color: global.color.map(|c| match c {
            ColorChoice::Auto => ColorMode::Auto,
            ColorChoice::Always => ColorMode::Always,
            ColorChoice::Never => ColorMode::Never,
        }),
        log_format: global.log_format.map(|f| match f {
            LogFormat::Text => crate::settings::LogFormat::Text,
            LogFormat::Json => crate::settings::LogFormat::Json,
        }),
        verbose: global.verbose,
        quiet: global.quiet,
    }
}

pub fn run(
    global: &GlobalArgs,
    settings: &Settings,
    _args: &ConfigArgs,
    out: &mut Out<'_>,
) -> Result<Exit, Error> {
    let text = if global.json {
        let mut doc = serde_json::to_string_pretty(&as_json(settings)).unwrap_or_default();
        doc.push('\n');
        doc
    } else {
        as_text(settings)
    };
    out.stdout
        .write_all(text.as_bytes())
        .map_err(|e| stream_error("write to stdout", &e))?;
    Ok(Exit::Ok)
}

fn file_line(label: &str, file: &Option<(std::path::PathBuf, bool)>) -> String {
    match file {
        Some((path, true)) => format!("# {label}: {}\n", path.display()),
        Some((path, false)) => format!("# {label}: {} (not found)\n", path.display()),
        None => format!("# {label}: none\n"),
    }
}

fn as_text(settings: &Settings) -> String {
    let mut text = file_line("user config", &settings.user_config);
    text.push_str(&file_line("repo config", &settings.repo_config));
    if let Some(profile) = &settings.profile {
        text.push_str(&format!("# profile: {profile}\n"));
    }
    let entries = settings.entries();
    let rows: Vec<(String, &crate::settings::Source)> = entries
        .iter()
        .map(|(k, v, s)| (format!("{k} = {v}"), *s))
        .collect();
    let width = rows
        .iter()
        .map(|(r, _)| r.chars().count())
        .max()
        .unwrap_or(0);
    for (row, source) in rows {
        text.push_str(&format!("{row:<width$}  # {source}\n"));
    }
    text
}

fn as_json(settings: &Settings) -> Value {
    let file = |f: &Option<(std::path::PathBuf, bool)>| match f {
        Some((path, exists)) => json!({ "path": path.display().to_string(), "exists": exists }),
        None => Value::Null,
    };
    let mut values = Map::new();
    for (key, value, source) in settings.entries() {
        let value = match value {
            Shown::Text(t) => Value::String(t),
            Shown::Number(n) => json!(n),
            Shown::Unset => Value::Null,
            Shown::List(items) => json!(items),
        };
        values.insert(
            key.to_string(),
            json!({ "value": value, "source": source.to_string(), "kind": source.kind() }),
        );
    }
    json!({
        "user_config": file(&settings.user_config),
        "repo_config": file(&settings.repo_config),
        "profile": settings.profile,
        "settings": values,
    })
}
