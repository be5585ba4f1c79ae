//! `codefleet report merge`: joins the `--json` reports of a run's shards and prints them as
//! `codefleet run` prints one run (table or JSON, step summary), exiting as that run would.

use super::Out;
use super::args::{GlobalArgs, ReportArgs, ReportCommand};
use super::run::print_reports;
use crate::error::{Error, Exit};
use crate::report::{self, Mode};

pub fn run(global: &GlobalArgs, args: &ReportArgs, out: &mut Out<'_>) -> Result<Exit, Error> {
    let ReportCommand::Merge(merge) = &args.command;
    let mut all = Vec::new();
    for path in &merge.reports {
        all.extend(report::read_reports(path)?);
    }
    let merged = report::merge(all)?;
    let mode = merged.first().map_or(Mode::Run, |r| r.mode);
    // Annotations were printed by each shard's own job.
    print_reports(&merged, mode, global.json, global.quiet, false, out);
    Ok(Exit::worst(merged.iter().map(|r| r.exit_code)))
}
