//! Work spread over the machine's cores, results in input order (output stays deterministic
//! whatever thread did what).
//!
//! The threads come from a pool ([`scope`], [`warm_up`]): started once, before the allocator's
//! prefault thread asks the kernel to populate memory. Starting a thread maps memory (its
//! stack, its signal stack, the C library's malloc arena), and the kernel makes each map wait
//! for the population of the huge page in progress: a thread started mid-run waited ~1 ms
//! (5 ms now and then) in half of all cold synths.

use std::any::Any;
use std::collections::VecDeque;
use std::marker::PhantomData;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

/// Threads worth starting for `jobs` jobs: one per core, never more than the jobs, at least 1.
/// `KIRO_THREADS` overrides the core count (1 runs everything on the calling thread).
pub fn threads_for(jobs: usize) -> usize {
    cores().min(jobs).max(1)
}

/// The machine's cores (`KIRO_THREADS` when set to a positive number), at least 1; read once
/// (the standard library reads the cgroup's CPU quota from files each time).
pub fn cores() -> usize {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| {
        std::env::var("KIRO_THREADS")
            .ok()
            .and_then(|v| v.parse::<usize>().ok())
            .filter(|n| *n > 0)
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
    })
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
    scope(|s| {
        for _ in 1..threads {
            // A worker that cannot start leaves its share to the others and this thread.
            let _ = s.spawn(work);
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

/// A job as the pool runs it: it gives back the state of the scope that spawned it, which the
/// worker tells the job has finished once it is free again (see [`Scope::spawn`]).
type Job = Box<dyn FnOnce() -> Arc<ScopeState> + Send + 'static>;

/// The pool's threads and the jobs waiting for one.
struct Pool {
    state: Mutex<PoolState>,
    /// A job was queued.
    work: Condvar,
    /// A worker started.
    started: Condvar,
}

struct PoolState {
    queue: VecDeque<Job>,
    /// Workers started (they never stop: the process's exit ends them).
    workers: usize,
    /// Workers whose threads have not yet reached their loop.
    starting: usize,
    /// Workers running a job.
    busy: usize,
}

/// The process's pool.
static POOL: Pool = Pool::new();

/// Starts workers until the pool has `n` (counting those already started), so that the jobs
/// to come start without starting a thread.
///
/// # Errors
/// The operating system refused a thread.
pub fn warm_up(n: usize) -> std::io::Result<()> {
    POOL.warm_up(n)
}

/// Runs `f` with a [`Scope`] whose jobs may borrow anything that outlives the call, like
/// `std::thread::scope`, on the pool's threads; returns once every job has finished. A job's
/// panic is resumed here (after all jobs finished), as is a panic of `f`.
pub fn scope<'env, R>(f: impl FnOnce(&Scope<'env>) -> R) -> R {
    POOL.scope(f)
}

impl Pool {
    const fn new() -> Self {
        Pool {
            state: Mutex::new(PoolState {
                queue: VecDeque::new(),
                workers: 0,
                starting: 0,
                busy: 0,
            }),
            work: Condvar::new(),
            started: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, PoolState> {
        // Jobs run outside the lock and never unwind (`Scope::spawn` catches their panics).
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// See [`warm_up`]; returns once the workers' threads are running (done with what a
    /// thread maps when it starts).
    fn warm_up(&'static self, n: usize) -> std::io::Result<()> {
        loop {
            {
                let mut state = self.lock();
                if state.workers >= n {
                    while state.starting > 0 {
                        state = self.started.wait(state).unwrap_or_else(PoisonError::into_inner);
                    }
                    return Ok(());
                }
                state.workers += 1;
                state.starting += 1;
            }
            self.start_worker()?;
        }
    }

    /// Starts one worker (counted in `workers` and `starting` by the caller; uncounted again
    /// when the thread cannot start).
    fn start_worker(&'static self) -> std::io::Result<()> {
        let started = std::thread::Builder::new().name("worker".into()).spawn(move || {
            let mut state = self.lock();
            state.starting -= 1;
            self.started.notify_all();
            loop {
                if let Some(job) = state.queue.pop_front() {
                    state.busy += 1;
                    drop(state);
                    let scope = job();
                    self.lock().busy -= 1;
                    // Free before the scope hears of it: a scope's next job finds this worker.
                    scope.finish();
                    state = self.lock();
                } else {
                    state = self.work.wait(state).unwrap_or_else(PoisonError::into_inner);
                }
            }
        });
        if started.is_err() {
            let mut state = self.lock();
            state.workers -= 1;
            state.starting -= 1;
            drop(state);
            self.started.notify_all();
        }
        started.map(drop)
    }

    /// Queues `job` for a worker, starting one first unless a free worker will take it (so a
    /// job never waits behind a busy one: jobs may wait for each other).
    fn submit(&'static self, job: Job) -> std::io::Result<()> {
        let free = {
            let mut state = self.lock();
            let free = state.queue.len() + state.busy < state.workers;
            if !free {
                state.workers += 1;
                state.starting += 1;
            }
            free
        };
        if !free {
            self.start_worker()?;
        }
        self.lock().queue.push_back(job);
        self.work.notify_one();
        Ok(())
    }

    fn scope<'env, R>(&'static self, f: impl FnOnce(&Scope<'env>) -> R) -> R {
        let scope = Scope {
            pool: self,
            state: Arc::new(ScopeState::default()),
            _env: PhantomData,
        };
        let result = catch_unwind(AssertUnwindSafe(|| f(&scope)));
        let state = &scope.state;
        let mut pending = state.pending.lock().unwrap_or_else(PoisonError::into_inner);
        while *pending > 0 {
            pending = state.finished.wait(pending).unwrap_or_else(PoisonError::into_inner);
        }
        drop(pending);
        if let Some(panic) = state.panic.lock().unwrap_or_else(PoisonError::into_inner).take() {
            resume_unwind(panic);
        }
        result.unwrap_or_else(|panic| resume_unwind(panic))
    }
}

/// Spawns jobs that may borrow from outside [`scope`]'s call (`'env`).
pub struct Scope<'env> {
    pool: &'static Pool,
    state: Arc<ScopeState>,
    /// Invariant in `'env`, as `std::thread::Scope`: a shorter lifetime would let a job borrow
    /// what dies before the scope waits.
    _env: PhantomData<&'env mut &'env ()>,
}

#[derive(Default)]
struct ScopeState {
    /// Jobs spawned and not yet finished.
    pending: Mutex<usize>,
    finished: Condvar,
    /// The first job panic's payload.
    panic: Mutex<Option<Box<dyn Any + Send>>>,
}

impl ScopeState {
    /// One spawned job has finished (or was never queued).
    fn finish(&self) {
        *self.pending.lock().unwrap_or_else(PoisonError::into_inner) -= 1;
        self.finished.notify_all();
    }
}

impl<'env> Scope<'env> {
    /// Runs `job` on a pool thread; its result comes back through [`Handle::join`].
    ///
    /// # Errors
    /// No worker was free and the operating system refused a new thread (the job does not run).
    pub fn spawn<T: Send + 'env>(&self, job: impl FnOnce() -> T + Send + 'env) -> std::io::Result<Handle<'_, T>> {
        let packet = Arc::new(Packet {
            result: Mutex::new(None),
            ready: Condvar::new(),
        });
        let theirs = Arc::clone(&packet);
        let state = Arc::clone(&self.state);
        *self.state.pending.lock().unwrap_or_else(PoisonError::into_inner) += 1;
        let run = move || {
            let record = |panic| {
                state
                    .panic
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .get_or_insert(panic);
            };
            let outcome = catch_unwind(AssertUnwindSafe(job)).map_err(record).ok();
            *theirs.result.lock().unwrap_or_else(PoisonError::into_inner) = Some(outcome);
            theirs.ready.notify_all();
            // Nothing borrowed from `'env` may be left once the scope sees this job finished:
            // the job was consumed above, its result is the packet's (freed here, when the
            // handle is gone, or by the handle, which the scope outlives). A result whose drop
            // panics must not take the worker down with it (the scope would wait forever).
            let _ = catch_unwind(AssertUnwindSafe(move || drop(theirs))).map_err(record);
            state
        };
        let run: Box<dyn FnOnce() -> Arc<ScopeState> + Send + 'env> = Box::new(run);
        // SAFETY: only the lifetime changes. `scope` does not return (nor unwind) before every
        // spawned job has finished, and a job has dropped all it holds of `'env` when it
        // returns (the worker then calls `finish`); a job that is not queued (error below) is
        // dropped before `spawn` returns.
        let run: Job = unsafe { std::mem::transmute::<Box<dyn FnOnce() -> Arc<ScopeState> + Send + 'env>, Job>(run) };
        self.pool.submit(run).inspect_err(|_| self.state.finish())?;
        Ok(Handle {
            packet,
            _scope: PhantomData,
        })
    }
}

struct Packet<T> {
    /// Set when the job ends: Some(None) when it panicked.
    result: Mutex<Option<Option<T>>>,
    ready: Condvar,
}

/// A spawned job's result, to wait for.
pub struct Handle<'scope, T> {
    packet: Arc<Packet<T>>,
    _scope: PhantomData<&'scope ()>,
}

impl<T> Handle<'_, T> {
    /// Waits for the job and gives its result.
    ///
    /// # Panics
    /// When the job panicked (its own panic is resumed when the scope ends).
    pub fn join(self) -> T {
        let mut result = self.packet.result.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            match result.take() {
                Some(Some(value)) => return value,
                Some(None) => panic!("a job of this scope panicked"),
                None => result = self.packet.ready.wait(result).unwrap_or_else(PoisonError::into_inner),
            }
        }
    }
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

    #[test]
    fn jobs_borrow_from_outside_and_the_scope_waits_for_them() {
        let mut counts = vec![0usize; 16];
        let total = AtomicUsize::new(0);
        scope(|s| {
            for slot in counts.iter_mut() {
                s.spawn(|| {
                    std::thread::sleep(std::time::Duration::from_millis(2));
                    *slot += 1;
                    total.fetch_add(1, Ordering::Relaxed);
                })
                .expect("worker");
            }
        });
        assert_eq!(counts, vec![1; 16]);
        assert_eq!(total.load(Ordering::Relaxed), 16);
    }

    #[test]
    fn handles_give_each_job_its_result() {
        let words = ["a", "bb", "ccc"];
        let lengths = scope(|s| {
            let handles: Vec<_> = words
                .iter()
                .map(|w| s.spawn(move || w.len()).expect("worker"))
                .collect();
            handles.into_iter().map(Handle::join).collect::<Vec<_>>()
        });
        assert_eq!(lengths, vec![1, 2, 3]);
    }

    #[test]
    fn jobs_waiting_for_each_other_all_get_a_thread() {
        // Every job waits until all have started: a job queued behind a busy worker would
        // never start (the wait times out and the count falls short).
        let jobs = 24;
        let started = Mutex::new(0usize);
        let all = Condvar::new();
        let met = AtomicUsize::new(0);
        scope(|s| {
            for _ in 0..jobs {
                s.spawn(|| {
                    let mut n = started.lock().expect("lock");
                    *n += 1;
                    all.notify_all();
                    let (n, timeout) = all
                        .wait_timeout_while(n, std::time::Duration::from_secs(20), |n| *n < jobs)
                        .expect("lock");
                    if !timeout.timed_out() && *n == jobs {
                        met.fetch_add(1, Ordering::Relaxed);
                    }
                })
                .expect("worker");
            }
        });
        assert_eq!(met.load(Ordering::Relaxed), jobs);
    }

    #[test]
    fn a_job_panic_is_resumed_after_every_job_finished() {
        let finished = AtomicUsize::new(0);
        let caught = catch_unwind(AssertUnwindSafe(|| {
            scope(|s| {
                s.spawn(|| std::panic::panic_any("job failed")).expect("worker");
                s.spawn(|| {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                    finished.fetch_add(1, Ordering::Relaxed);
                })
                .expect("worker");
            });
        }));
        let payload = caught.expect_err("the job's panic");
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"job failed"));
        assert_eq!(finished.load(Ordering::Relaxed), 1);
        // A panic of the scope's own closure also waits for its jobs.
        let caught = catch_unwind(AssertUnwindSafe(|| {
            scope(|s| {
                s.spawn(|| {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                    finished.fetch_add(1, Ordering::Relaxed);
                })
                .expect("worker");
                std::panic::panic_any("closure failed");
            })
        }));
        assert_eq!(
            caught.expect_err("panic").downcast_ref::<&str>(),
            Some(&"closure failed")
        );
        assert_eq!(finished.load(Ordering::Relaxed), 2);
        // The pool still works afterwards.
        assert_eq!(scope(|s| s.spawn(|| 7).expect("worker").join()), 7);
    }

    #[test]
    fn a_result_whose_drop_panics_does_not_stop_the_scope_or_the_worker() {
        struct Bomb;
        impl Drop for Bomb {
            fn drop(&mut self) {
                std::panic::panic_any("drop failed");
            }
        }
        static OWN: Pool = Pool::new();
        let caught = catch_unwind(AssertUnwindSafe(|| {
            OWN.scope(|s| {
                // The handle is dropped at once: the worker drops the result.
                drop(s.spawn(|| Bomb).expect("worker"));
            })
        }));
        assert_eq!(caught.expect_err("panic").downcast_ref::<&str>(), Some(&"drop failed"));
        assert_eq!(OWN.scope(|s| s.spawn(|| 5).expect("worker").join()), 5);
        let state = OWN.lock();
        assert_eq!((state.workers, state.busy), (1, 0), "the same worker, free again");
    }

    #[test]
    fn scopes_nest_inside_jobs() {
        let sums = scope(|s| {
            let handles: Vec<_> = (0..4u64)
                .map(|i| {
                    s.spawn(move || {
                        scope(|inner| {
                            (0..4u64)
                                .map(|j| inner.spawn(move || i * 4 + j).expect("worker"))
                                .map(Handle::join)
                                .sum::<u64>()
                        })
                    })
                    .expect("worker")
                })
                .collect();
            handles.into_iter().map(Handle::join).sum::<u64>()
        });
        assert_eq!(sums, (0..16).sum::<u64>());
    }

    #[test]
    fn warm_up_starts_workers_once_and_jobs_use_them() {
        static OWN: Pool = Pool::new();
        OWN.warm_up(2).expect("threads");
        let state = OWN.lock();
        assert_eq!((state.workers, state.starting), (2, 0), "running when warm_up returns");
        drop(state);
        OWN.warm_up(2).expect("threads");
        OWN.warm_up(1).expect("threads");
        assert_eq!(OWN.lock().workers, 2);
        // Two jobs at a time find the two workers; none is started.
        for _ in 0..10 {
            let names = OWN.scope(|s| {
                let a = s
                    .spawn(|| std::thread::current().name().map(str::to_string))
                    .expect("worker");
                let b = s
                    .spawn(|| std::thread::current().name().map(str::to_string))
                    .expect("worker");
                [a.join(), b.join()]
            });
            assert_eq!(names, [Some("worker".to_string()), Some("worker".to_string())]);
        }
        assert_eq!(OWN.lock().workers, 2);
        // Three jobs that wait for each other need a third.
        let started = AtomicUsize::new(0);
        OWN.scope(|s| {
            for _ in 0..3 {
                s.spawn(|| {
                    started.fetch_add(1, Ordering::SeqCst);
                    while started.load(Ordering::SeqCst) < 3 {
                        std::thread::yield_now();
                    }
                })
                .expect("worker");
            }
        });
        assert_eq!(OWN.lock().workers, 3);
    }
}
