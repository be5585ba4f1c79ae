//! Model providers behind one trait, prompts per edit format, retries, cache and accounting.
//! Built by the model issue.
