//! `codefleet apply`.
use super::Out;
use super::args::{ApplyArgs, GlobalArgs};
use crate::error::{Error, Exit};

pub fn run(_global: &GlobalArgs, _args: &ApplyArgs, _out: &mut Out<'_>) -> Result<Exit, Error> {
    super::not_yet("apply")
}
