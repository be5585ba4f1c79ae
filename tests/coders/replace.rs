//! The `replace` coder: literal and regex, captures, limits, bytes that are not UTF-8.
