//! The run report types and their renderers (terminal, JSON, Markdown). Built by the runs issue.
