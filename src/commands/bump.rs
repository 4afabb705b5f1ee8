//! `kbundle bump`: point a fleet file at a new image digest.

use crate::cli::BumpArgs;
use crate::error::{Error, Outcome, Result};
use crate::gitops;

pub fn run(args: BumpArgs) -> Result<Outcome> {
    if let Some(repo) = &args.repo {
        return Err(Error::new(format!(
            "--repo {repo}: pull requests are not available yet; edit the file locally (drop --repo) and commit it"
        )));
    }
    let path = &args.file;
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::new(format!("{}: {e}", path.display())))?;
    let edit = gitops::bump(&text, &args.image, args.pin, args.name.as_deref())
        .map_err(|e| Error::new(format!("{}: {e}", path.display())))?;
    if edit.changes.is_empty() {
        println!("up to date");
        return Ok(Outcome::Passed);
    }
    super::write_atomically(path, edit.text.as_bytes(), None)?;
    for c in &edit.changes {
        println!(
            "{}:{}: {} {} {}: {} -> {}",
            path.display(),
            c.line,
            c.kind,
            c.name,
            c.field,
            c.old,
            c.new
        );
    }
    Ok(Outcome::Passed)
}
