//! `codefleet validate`.
use super::Out;
use super::args::{GlobalArgs, ValidateArgs};
use crate::error::{Error, Exit};

pub fn run(_global: &GlobalArgs, _args: &ValidateArgs, _out: &mut Out<'_>) -> Result<Exit, Error> {
    super::not_yet("validate")
}
