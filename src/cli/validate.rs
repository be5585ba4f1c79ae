//! `codefleet validate`: reads each pipeline, prints every problem with its place, and ends with
//! one summary line (`--json`: one object listing each pipeline and its problems). Exit 0 when
//! all are valid, 2 otherwise.

use super::Out;
use super::args::{GlobalArgs, ValidateArgs};
use super::errors::stream_error;
use crate::error::{Error, Exit};
use crate::pipeline;

pub fn run(global: &GlobalArgs, args: &ValidateArgs, out: &mut Out<'_>) -> Result<Exit, Error> {
    let vars = parse_vars(&global.vars)?;
    let mut problems = 0;
    let mut invalid = 0;
    let mut records = Vec::new();
    for path in &args.pipelines {
        let loaded = pipeline::load(path, &vars);
        if global.json {
            records.push(match &loaded {
                Ok(p) => serde_json::json!({
                    "path": path.display().to_string(), "valid": true,
                    "name": p.name, "tasks": p.tasks.len(), "problems": [],
                }),
                Err(errors) => serde_json::json!({
                    "path": path.display().to_string(), "valid": false,
                    "problems": errors.iter().map(Error::to_json).collect::<Vec<_>>(),
                }),
            });
            if let Err(errors) = &loaded {
                invalid += 1;
                problems += errors.len();
            }
            continue;
        }
        match loaded {
            Ok(p) => {
                if global.verbose > 0 {
                    let tasks = p.tasks.len();
                    let s = if tasks == 1 { "" } else { "s" };
                    let _ = writeln!(out.stderr, "ok: {}: {tasks} task{s}", path.display());
                }
            }
            Err(errors) => {
                invalid += 1;
                problems += errors.len();
                for e in &errors {
                    out.error(e);
                    let _ = writeln!(out.stderr);
                }
            }
        }
    }
    let total = args.pipelines.len();
    if global.json {
        let doc = serde_json::json!({
            "valid": invalid == 0,
            "pipelines": records,
            "problems": problems,
        });
        let text = serde_json::to_string_pretty(&doc).unwrap_or_default();
        writeln!(out.stdout, "{text}").map_err(|e| stream_error("write to stdout", &e))?;
        return Ok(if invalid == 0 { Exit::Ok } else { Exit::Usage });
    }
    let plural = |n: usize, word: &str| {
        if n == 1 {
            format!("{n} {word}")
        } else {
            format!("{n} {word}s")
        }
    };
    if invalid == 0 {
        if !global.quiet {
            let _ = writeln!(out.stderr, "ok: {} valid", plural(total, "pipeline"));
        }
        return Ok(Exit::Ok);
    }
    let which = if invalid == total {
        plural(total, "pipeline")
    } else {
        format!("{invalid} of {}", plural(total, "pipeline"))
    };
    let (red, bold, reset) = if out.color {
        ("\x1b[1;31m", "\x1b[1m", "\x1b[0m")
    } else {
        ("", "", "")
    };
    let _ = writeln!(
        out.stderr,
        "{red}error{reset}{bold}: {} in {which}{reset}",
        plural(problems, "problem")
    );
    Ok(Exit::Usage)
}

/// Parses every `--var KEY=VALUE`.
pub fn parse_vars(args: &[String]) -> Result<Vec<(String, String)>, Error> {
    args.iter().map(|a| pipeline::parse_var(a)).collect()
}
