//! Work spread over the machine's cores, results in input order (output stays deterministic
//! whatever thread did what).

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Threads worth starting for `jobs` jobs: one per core, never more than the jobs, at least 1.
/// `KIRO_THREADS` overrides the core count (1 runs everything on the calling thread).
pub fn threads_for(jobs: usize) -> usize {
    let cores = std::env::var("KIRO_THREADS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|n| *n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    cores.min(jobs).max(1)
}

/// `f` applied to every item, on up to [`threads_for`] threads; results in the order of `items`.
/// Items are handed out one at a time, so a slow item does not hold up a whole share.
pub fn map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = threads_for(items.len());
    if threads <= 1 {
        return items.iter().map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<R>>> = Mutex::new(items.iter().map(|_| None).collect());
    let work = || {
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(item) = items.get(i) else { break };
            let r = f(item);
            if let Ok(mut slots) = results.lock()
                && let Some(slot) = slots.get_mut(i)
            {
                *slot = Some(r);
            }
        }
    };
    std::thread::scope(|s| {
        for _ in 1..threads {
            s.spawn(work);
        }
        work();
    });
    results
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .into_iter()
        .flatten()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_keep_the_input_order() {
        let items: Vec<u64> = (0..200).collect();
        let out = map(&items, |i| {
            // Uneven work so threads finish out of order.
            let mut x = *i;
            for _ in 0..(i % 7) * 1000 {
                x = std::hint::black_box(x);
            }
            x
        });
        assert_eq!(out, items);
        assert!(map(&[] as &[u8], |x| *x).is_empty());
    }
}
