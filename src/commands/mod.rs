//! One file per subcommand: read options, call the library, print.

pub mod validate;
