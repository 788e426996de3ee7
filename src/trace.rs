//! `KIRO_TRACE=1`: a timeline of a run's work on stderr, one line per mark (milliseconds since
//! the first mark, the thread, what starts or ends). A developer aid for finding where the time
//! of a run goes (README, "Speed"); off, a mark costs one load.

use std::sync::OnceLock;
use std::time::Instant;

static START: OnceLock<Option<Instant>> = OnceLock::new();

/// Prints `what` with the time and thread when `KIRO_TRACE` is set (the first mark starts the
/// clock).
pub fn mark(what: std::fmt::Arguments<'_>) {
    let start = START.get_or_init(|| std::env::var_os("KIRO_TRACE").map(|_| Instant::now()));
    if let Some(start) = start {
        let ms = start.elapsed().as_secs_f64() * 1000.0;
        let thread = std::thread::current();
        let name = thread
            .name()
            .map_or_else(|| format!("{:?}", thread.id()), str::to_string);
        eprintln!("trace {ms:>8.3} ms  {name:<14} {what}");
    }
}
