//! The pipeline format: the serde mirror of the YAML (with its JSON Schema), templating, and
//! validation into a checked model with source places.
