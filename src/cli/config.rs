//! `codefleet config`.
use super::Out;
use super::args::{ConfigArgs, GlobalArgs};
use crate::error::{Error, Exit};

pub fn run(_global: &GlobalArgs, _args: &ConfigArgs, _out: &mut Out<'_>) -> Result<Exit, Error> {
    super::not_yet("config")
}
