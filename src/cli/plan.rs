//! `codefleet plan`: which repositories, tasks and files a pipeline would touch — the same
//! [`Plan`](crate::plan::Plan) value `codefleet run` builds and executes; writes nothing.

use super::Out;
use super::args::{GlobalArgs, PlanArgs};
use super::errors::{print_error, stream_error};
use crate::error::{Error, Exit};
use crate::plan;
use crate::settings::Settings;

pub fn run(
    global: &GlobalArgs,
    settings: &Settings,
    args: &PlanArgs,
    out: &mut Out<'_>,
) -> Result<Exit, Error> {
    let mut pipelines = super::run::load_pipelines(&[args.pipeline.as_path()], global, out)?;
    for p in &mut pipelines {
        super::run::with_settings(p, settings)?;
    }
    let io = |e: std::io::Error| stream_error("write the plan", &e);
    let mut exit = Exit::Ok;
    let forges = super::hosts::forges(settings);
    for pipeline in &pipelines {
        let resolved = super::run::targets(pipeline, global, settings, &forges)?;
        let mut plan = plan::build(
            pipeline,
            &resolved.targets,
            &plan::PlanOptions {
                base: args.base.clone(),
                list_files: true,
                ..plan::PlanOptions::default()
            },
        );
        plan.dropped = resolved.dropped;
        // A repository that could not run is a failure, as in `codefleet run`.
        if plan.repos.iter().any(|r| r.error.is_some()) {
            exit = Exit::Failed;
        }
        if global.json {
            let text = serde_json::to_string_pretty(&plan).map_err(|e| print_error("plan", &e))?;
            writeln!(out.stdout, "{text}").map_err(io)?;
        } else {
            out.stdout
                .write_all(plan.render(!global.quiet).as_bytes())
                .map_err(io)?;
        }
    }
    Ok(exit)
}
