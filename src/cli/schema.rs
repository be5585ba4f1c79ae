//! `codefleet schema`: prints the JSON Schema of the pipeline format (generated from the types
//! the parser uses), for editors and CI checks.

use super::Out;
use super::args::SchemaArgs;
use super::errors::{print_error, stream_error};
use crate::error::{Error, Exit};
use crate::pipeline;

pub fn run(args: &SchemaArgs, out: &mut Out<'_>) -> Result<Exit, Error> {
    let schema = if args.report {
        crate::report::schema()
    } else if args.status {
        crate::campaign::schema()
    } else {
        pipeline::schema()
    };
    let text = serde_json::to_string_pretty(&schema).map_err(|e| print_error("schema", &e))?;
    writeln!(out.stdout, "{text}").map_err(|e| stream_error("write the schema", &e))?;
    Ok(Exit::Ok)
}
