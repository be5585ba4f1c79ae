//! The coders' behaviour tests: the fixture runner over `tests/fixtures/coders/`, property tests
//! of the formats, and the `replace` coder's unit tests.

mod api;
mod fixture_list;
mod fixtures;
mod props;
mod replace;
