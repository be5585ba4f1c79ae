//! The `diff-fenced` format: SEARCH/REPLACE blocks with the path as the first line inside the
//! fence. Both placements of the path parse the same, so this is the `diff` parser.

pub use super::diff::{parse, parse_items, parse_items_knowing};
