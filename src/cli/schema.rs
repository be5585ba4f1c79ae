//! `codefleet schema`.
use super::Out;
use super::args::SchemaArgs;
use crate::error::{Error, Exit};

pub fn run(_args: &SchemaArgs, _out: &mut Out<'_>) -> Result<Exit, Error> {
    super::not_yet("schema")
}
