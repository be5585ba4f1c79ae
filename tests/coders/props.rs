//! Property tests: unified diffs written by `similar` apply back, SEARCH/REPLACE blocks cut
//! from a unique region apply exactly, and no parser panics on any text.
