//! One stage of a command's log (`validate`, `push`, `sign`, …): in Actions a collapsible
//! group holding the stage's details with its result line last, then its timing for the
//! job summary.

use std::time::Instant;

use crate::actions;
pub use crate::actions::summary::Timing;

/// A stage that has started; [`Step::done`] or [`Step::failed`] ends it.
pub(crate) struct Step {
    name: &'static str,
    started: Instant,
    group: Option<actions::Group>,
}

impl Step {
    pub(crate) fn start(name: &'static str) -> Step {
        Step {
            name,
            started: Instant::now(),
            group: Some(actions::group(name)),
        }
    }

    /// Prints `✓ NAME WHAT (S s)` inside the group, then closes it.
    pub(crate) fn done(self, what: &str) -> Timing {
        self.end(what, true)
    }

    /// Prints `✗ NAME WHAT (S s)` inside the group, then closes it.
    pub(crate) fn failed(self, what: &str) -> Timing {
        self.end(what, false)
    }

    fn end(mut self, what: &str, ok: bool) -> Timing {
        let seconds = self.started.elapsed().as_secs_f64();
        let mark = if ok { '✓' } else { '✗' };
        actions::log(&format!("{mark} {:<9} {what} ({seconds:.2} s)", self.name));
        drop(self.group.take());
        Timing {
            name: self.name,
            what: what.to_owned(),
            seconds,
            ok,
        }
    }
}

impl Drop for Step {
    /// A stage left by an error (`?`) says so inside its group; the error follows it.
    fn drop(&mut self) {
        if let Some(group) = self.group.take() {
            let seconds = self.started.elapsed().as_secs_f64();
            actions::log(&format!("✗ {:<9} failed ({seconds:.2} s)", self.name));
            drop(group);
        }
    }
}

/// A stage that did not run, in the log and the timing table.
pub(crate) fn skipped(name: &'static str, why: &str) -> Timing {
    actions::log(&format!("  {name:<9} skipped ({why})"));
    Timing {
        name,
        what: format!("skipped ({why})"),
        seconds: 0.0,
        ok: true,
    }
}
