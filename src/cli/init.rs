//! `codefleet init`: writes a commented starter pipeline that validates as written. Never
//! overwrites: the file is created with a no-clobber rename of a temporary file.

use std::io::Write;
use std::path::Path;

use super::Out;
use super::args::InitArgs;
use super::errors::CliError;
use crate::error::{Error, Exit};
use crate::pipeline;

pub fn run(args: &InitArgs, json: bool, out: &mut Out<'_>) -> Result<Exit, Error> {
    let path = &args.path;
    if path.exists() {
        return Err(exists(path));
    }
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, &e))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".codefleet-init")
        .tempfile_in(dir)
        .map_err(|e| Error::io(dir, &e))?;
    tmp.write_all(pipeline::STARTER.as_bytes())
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(|e| Error::io(tmp.path(), &e))?;
    tmp.persist_noclobber(path).map_err(|e| {
        if e.error.kind() == std::io::ErrorKind::AlreadyExists {
            exists(path)
        } else {
            Error::io(path, &e.error)
        }
    })?;
    if json {
        let doc = serde_json::json!({ "created": path.display().to_string() });
        let _ = writeln!(out.stdout, "{doc}");
    } else {
        let _ = writeln!(
            out.stdout,
            "created {p}\ncheck it with: codefleet validate {p}",
            p = path.display()
        );
    }
    Ok(Exit::Ok)
}

fn exists(path: &Path) -> Error {
    CliError::InitExists {
        path: path.to_path_buf(),
    }
    .into()
}
