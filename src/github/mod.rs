//! Adapter: GitHub. For now the Actions runner protocol (inputs, outputs, summaries, masks).

pub mod actions;
