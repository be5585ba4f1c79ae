//! `codefleet apply`.
use super::Out;
use super::args::{ApplyArgs, GlobalArgs};
use crate::error::{Error, Exit};
use crate::settings::Settings;

pub fn run(
    _global: &GlobalArgs,
    _settings: &Settings,
    _args: &ApplyArgs,
    _out: &mut Out<'_>,
) -> Result<Exit, Error> {
    super::not_yet("apply")
}
