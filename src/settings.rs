//! Resolved settings and where each value came from: defaults < user config < repository
//! `.codefleet.yml` < profile < `CODEFLEET_*` environment < flags.
