//! `codefleet init`.
use super::Out;
use super::args::InitArgs;
use crate::error::{Error, Exit};

pub fn run(_args: &InitArgs, _out: &mut Out<'_>) -> Result<Exit, Error> {
    super::not_yet("init")
}
