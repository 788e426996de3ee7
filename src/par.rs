//! Work spread over the machine's cores, results in input order (output stays deterministic
//! whatever thread did what).

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Threads worth starting for `jobs` jobs: one per core, never more than the jobs, at least 1.
/// `KIRO_THREADS` overrides the core count (1 runs everything on the calling thread).
pub fn threads_for(jobs: usize) -> usize {
    cores().min(jobs).max(1)
}

/// The machine's cores (`KIRO_THREADS` when set to a positive number), at least 1.
pub fn cores() -> usize {
    std::env::var("KIRO_THREADS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|n| *n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// `f` applied to every item, on up to [`threads_for`] threads; results in the order of `items`.
/// Items are handed out one at a time, so a slow item does not hold up a whole share.
pub fn map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let order: Vec<usize> = (0..items.len()).collect();
    map_in_order(items, &order, f)
}

/// [`map`], starting with the items `cost` rates highest: with few items of very different
/// sizes (the Pipeline template is four times the Core one), handing the big ones out first
/// keeps one thread from being left with a big item at the end while the others wait.
pub fn map_largest_first<T: Sync, R: Send, C: Ord>(
    items: &[T],
    cost: impl Fn(&T) -> C,
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by_cached_key(|&i| std::cmp::Reverse(cost(&items[i])));
    map_in_order(items, &order, f)
}

/// `f` on every item, handed out in `order` (a permutation of the indices); results in the
/// order of `items`.
fn map_in_order<T: Sync, R: Send>(items: &[T], order: &[usize], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = threads_for(items.len());
    if threads <= 1 {
        return items.iter().map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<R>>> = Mutex::new(items.iter().map(|_| None).collect());
    let work = || {
        while let Some(&i) = order.get(next.fetch_add(1, Ordering::Relaxed)) {
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
        let largest_first = map_largest_first(&items, |i| i % 13, |i| i * 2);
        assert_eq!(largest_first, items.iter().map(|i| i * 2).collect::<Vec<_>>());
    }
}
