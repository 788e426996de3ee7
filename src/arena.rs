//! The binary's memory allocator: the first allocations come from one region, handed out in
//! order and never reused; once the region is spent (or cannot be mapped), mimalloc serves.
//!
//! Why: a cold `synth` makes ~90,000 allocations totalling ~11 MB and exits; most of what it
//! frees is freed at the end, when nothing would reuse it. A general allocator still pays for
//! size classes and free lists on every call (5% of the instructions with mimalloc), and
//! spreads the blocks over a page per size class and thread: 14 MiB of fresh memory, which the
//! kernel zeroes a 2 MiB huge page at a time (~0.2 ms each on our VM). Handing out one region
//! in order touches only what is allocated.
//!
//! Each thread claims the region 256 KiB at a time and hands out its own chunk, so the threads
//! share one atomic operation per chunk rather than per allocation (per allocation, the two
//! threads of a synth lost 1 ms to contention). The region is reserved, not committed
//! (`MAP_NORESERVE`): an untouched part costs nothing, and a long run (a 5,000-resource
//! `check`) spends it and goes on with mimalloc, reusing memory again; the most a run can
//! leave unreused is the region's size.
//!
//! The kernel still zeroes each page on first touch: [`Arena::prefault`] has that done ahead,
//! and the binary calls it on another core as a synth, check or diff starts.
//!
//! Only the `kiro-infra` executable installs it (`src/main.rs`); the library and its tests use
//! whatever allocator their host has. Outside Unix there is no region: mimalloc only.

use std::alloc::{GlobalAlloc, Layout};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The region's start is aligned to this, so an offset aligned to at most this much is an
/// aligned address (and the kernel can back the region with transparent huge pages).
const REGION_ALIGN: usize = 2 << 20;

/// Each thread takes the region a chunk at a time and hands out its own chunk without
/// touching what the threads share: one atomic operation per chunk, not per allocation.
const CHUNK: usize = 256 << 10;

/// A thread's chunk of one arena's region: addresses of the next free byte and of the end.
#[derive(Clone, Copy)]
struct Chunk {
    /// The arena it came from (its address): a thread may use several in tests.
    arena: usize,
    next: usize,
    end: usize,
}

thread_local! {
    static LOCAL: Cell<Chunk> = const { Cell::new(Chunk { arena: 0, next: 0, end: 0 }) };
}

/// Where a block of `layout` starts in `next..end`, if it fits.
fn fit(next: usize, end: usize, layout: Layout) -> Option<usize> {
    let start = next.checked_add(layout.align() - 1)? & !(layout.align() - 1);
    (start.checked_add(layout.size())? <= end).then_some(start)
}

/// `base` before the region is mapped.
const UNMAPPED: usize = 0;
/// `base` once mapping failed: every allocation goes to mimalloc.
const FAILED: usize = 1;

/// A region of `size` bytes handed out in order, then mimalloc. See the module doc.
pub struct Arena {
    size: usize,
    /// Start of the region, or [`UNMAPPED`] / [`FAILED`].
    base: AtomicUsize,
    /// Offset of the first byte no thread has claimed. Bytes past it have never been written.
    next: AtomicUsize,
}

impl Arena {
    /// An arena whose region (mapped on first use) holds `size` bytes.
    pub const fn new(size: usize) -> Arena {
        Arena {
            size,
            base: AtomicUsize::new(UNMAPPED),
            next: AtomicUsize::new(0),
        }
    }

    /// The region's start, mapping it on first use; `None` when it cannot be mapped.
    fn region(&self) -> Option<usize> {
        match self.base.load(Ordering::Acquire) {
            FAILED => None,
            UNMAPPED => {
                let mapped = map(self.size).unwrap_or(FAILED);
                match self
                    .base
                    .compare_exchange(UNMAPPED, mapped, Ordering::AcqRel, Ordering::Acquire)
                {
                    Ok(_) => (mapped != FAILED).then_some(mapped),
                    Err(won) => {
                        // Another thread mapped it first: give ours back, use theirs.
                        if mapped != FAILED {
                            unmap(mapped, self.size);
                        }
                        (won != FAILED).then_some(won)
                    }
                }
            }
            base => Some(base),
        }
    }

    /// The next `layout.size()` bytes at `layout.align()` from this thread's chunk (a new chunk
    /// when it cannot hold them), or null when the region cannot.
    fn take(&self, layout: Layout) -> *mut u8 {
        if layout.align() > REGION_ALIGN {
            return std::ptr::null_mut();
        }
        let me = self as *const Arena as usize;
        let from_chunk = |local: &Cell<Chunk>| {
            let chunk = local.get();
            if chunk.arena == me
                && let Some(start) = fit(chunk.next, chunk.end, layout)
            {
                local.set(Chunk {
                    next: start + layout.size(),
                    ..chunk
                });
                return start as *mut u8;
            }
            let need = layout.size().saturating_add(layout.align());
            let Some((start, end)) = self.claim(need) else {
                return std::ptr::null_mut();
            };
            match fit(start, end, layout) {
                Some(block) => {
                    local.set(Chunk {
                        arena: me,
                        next: block + layout.size(),
                        end,
                    });
                    block as *mut u8
                }
                None => std::ptr::null_mut(),
            }
        };
        // No thread-local left (the thread is ending): mimalloc.
        LOCAL.try_with(from_chunk).unwrap_or(std::ptr::null_mut())
    }

    /// Claims the next [`CHUNK`] bytes of the region (more when `need` is more; what is left
    /// when less remains but at least `need`): their addresses, start and end.
    fn claim(&self, need: usize) -> Option<(usize, usize)> {
        let base = self.region()?;
        let mut cur = self.next.load(Ordering::Relaxed);
        loop {
            let end = cur.saturating_add(CHUNK.max(need)).min(self.size);
            if end.saturating_sub(cur) < need {
                return None;
            }
            match self
                .next
                .compare_exchange_weak(cur, end, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => return Some((base + cur, base + end)),
                Err(now) => cur = now,
            }
        }
    }

    /// Grows `ptr` from `old` to `new` bytes where it is, when it is the last block of this
    /// thread's chunk and the chunk has room.
    fn grow_in_place(&self, ptr: *mut u8, old: usize, new: usize) -> bool {
        let me = self as *const Arena as usize;
        LOCAL
            .try_with(|local| {
                let chunk = local.get();
                let (p, end) = (ptr as usize, chunk.end);
                let fits = chunk.arena == me && chunk.next == p + old && p.checked_add(new).is_some_and(|e| e <= end);
                if fits {
                    local.set(Chunk { next: p + new, ..chunk });
                }
                fits
            })
            .unwrap_or(false)
    }

    /// Has the kernel back the region's first `bytes` with memory now (zeroed pages, page
    /// tables), as if each page had been written, without writing it: a thread with nothing
    /// else to do can take that work off the threads that will allocate. Contents are not
    /// touched, so it is safe while other threads use the region. Linux 5.14 or later; a
    /// no-op elsewhere or when it fails.
    pub fn prefault(&self, bytes: usize) {
        #[cfg(target_os = "linux")]
        if let Some(base) = self.region() {
            // A page at a time: the kernel holds the process's memory-map lock while it
            // populates, and a thread that maps memory meanwhile (a new thread's stack) waits.
            for offset in (0..bytes.min(self.size)).step_by(REGION_ALIGN) {
                let len = REGION_ALIGN.min(self.size - offset);
                // SAFETY: advice on our own mapping; POPULATE_WRITE does not change contents.
                let failed =
                    unsafe { libc::madvise((base + offset) as *mut libc::c_void, len, libc::MADV_POPULATE_WRITE) != 0 };
                if failed {
                    break;
                }
            }
        }
        #[cfg(not(target_os = "linux"))]
        let _ = bytes;
    }

    /// How many bytes of the region the threads have claimed so far (a chunk at a time).
    pub fn claimed(&self) -> usize {
        self.next.load(Ordering::Relaxed)
    }

    /// The offset of `ptr` in the region, when it is one of its blocks.
    fn offset_of(&self, ptr: *mut u8) -> Option<usize> {
        match self.base.load(Ordering::Relaxed) {
            UNMAPPED | FAILED => None,
            base => (ptr as usize).checked_sub(base).filter(|&off| off < self.size),
        }
    }
}

// SAFETY: each byte of the region is handed out at most once: the compare-exchange on `next`
// gives a chunk to one thread, and only that thread (its thread-local `Chunk`) hands out or
// grows blocks in it, each past the previous. Blocks are aligned as asked (the region's start
// is `REGION_ALIGN`-aligned; larger alignments go to mimalloc) and never cross their chunk's
// end. Bytes past a chunk's `next` have never been written and the region is fresh anonymous
// memory, so they read as zero. A block is given to mimalloc to free only if it did not come
// from the region.
unsafe impl GlobalAlloc for Arena {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = self.take(layout);
        if p.is_null() {
            // SAFETY: the caller's layout contract is passed on unchanged.
            unsafe { mimalloc::MiMalloc.alloc(layout) }
        } else {
            p
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = self.take(layout);
        if p.is_null() {
            // SAFETY: as in `alloc`.
            unsafe { mimalloc::MiMalloc.alloc_zeroed(layout) }
        } else {
            // Never handed out before: still zero.
            p
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if self.offset_of(ptr).is_none() {
            // SAFETY: not from the region, so from mimalloc with this layout.
            unsafe { mimalloc::MiMalloc.dealloc(ptr, layout) }
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if self.offset_of(ptr).is_none() {
            // SAFETY: from mimalloc; the caller's contract is passed on unchanged.
            return unsafe { mimalloc::MiMalloc.realloc(ptr, layout, new_size) };
        }
        if new_size <= layout.size() {
            return ptr;
        }
        // The last block a thread took grows where it is (a string or vector being built).
        if self.grow_in_place(ptr, layout.size(), new_size) {
            return ptr;
        }
        // SAFETY: `new_size` is non-zero and, rounded to `layout.align()`, does not overflow
        // (the caller's contract for `realloc`).
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        // SAFETY: as in `alloc`.
        let new = unsafe { self.alloc(new_layout) };
        if !new.is_null() {
            // SAFETY: both blocks hold at least `layout.size()` bytes and do not overlap (the
            // new one was handed out after the old one, or comes from mimalloc).
            unsafe { std::ptr::copy_nonoverlapping(ptr, new, layout.size()) };
        }
        new
    }
}

/// Reserves `size` bytes of fresh anonymous memory starting at a `REGION_ALIGN` boundary,
/// marked for transparent huge pages. `None` when the system refuses.
#[cfg(unix)]
fn map(size: usize) -> Option<usize> {
    let len = size.checked_add(REGION_ALIGN)?;
    // SAFETY: a new private anonymous mapping; no existing memory is affected.
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
            -1,
            0,
        )
    };
    if p == libc::MAP_FAILED {
        return None;
    }
    let start = (p as usize + REGION_ALIGN - 1) & !(REGION_ALIGN - 1);
    #[cfg(target_os = "linux")]
    // SAFETY: advice on memory of our own mapping; failure only means no huge pages.
    unsafe {
        libc::madvise(start as *mut libc::c_void, size, libc::MADV_HUGEPAGE);
    }
    Some(start)
}

#[cfg(not(unix))]
fn map(_size: usize) -> Option<usize> {
    None
}

/// Gives back a region [`map`] made for `size` bytes (the lost race to map it first). Its
/// alignment slack stays mapped: it is never touched, and this happens at most once.
#[cfg(unix)]
fn unmap(start: usize, size: usize) {
    // SAFETY: `start..start + size` lies inside our own mapping, which nothing else uses.
    unsafe {
        libc::munmap(start as *mut libc::c_void, size);
    }
}

#[cfg(not(unix))]
fn unmap(_start: usize, _size: usize) {}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(size: usize, align: usize) -> Layout {
        Layout::from_size_align(size, align).expect("layout")
    }

    #[test]
    fn blocks_are_aligned_disjoint_and_zeroed_then_mimalloc_takes_over() {
        let arena = Arena::new(1 << 15);
        let mut blocks = vec![];
        for (i, align) in [1usize, 8, 16, 64, 4096, 2, 32].iter().cycle().take(40).enumerate() {
            let l = layout(100 + i * 37, *align);
            // SAFETY: non-zero size.
            let p = unsafe { arena.alloc_zeroed(l) };
            assert!(!p.is_null());
            assert_eq!(p as usize % align, 0, "alignment {align}");
            // SAFETY: `p` holds `l.size()` bytes.
            let bytes = unsafe { std::slice::from_raw_parts_mut(p, l.size()) };
            assert!(bytes.iter().all(|&b| b == 0), "zeroed");
            bytes.fill(i as u8 + 1);
            blocks.push((p, l, i as u8 + 1));
        }
        // 40 blocks of up to ~1.5 KB, some 4 KiB-aligned, do not fit in 32 KiB: the last
        // ones came from mimalloc.
        assert!(blocks.iter().any(|(p, _, _)| arena.offset_of(*p).is_none()));
        assert!(blocks.iter().any(|(p, _, _)| arena.offset_of(*p).is_some()));
        for (p, l, fill) in blocks {
            // SAFETY: as above; each block still holds its own fill: none overlapped.
            let bytes = unsafe { std::slice::from_raw_parts(p, l.size()) };
            assert!(bytes.iter().all(|&b| b == fill));
            // SAFETY: allocated by `arena` with `l`.
            unsafe { arena.dealloc(p, l) };
        }
    }

    #[test]
    fn the_last_block_grows_in_place_others_move_with_their_bytes() {
        let arena = Arena::new(1 << 20);
        let l = layout(16, 8);
        // SAFETY: non-zero sizes; every pointer below comes from `arena` with the layout given.
        unsafe {
            let a = arena.alloc(l);
            a.write_bytes(7, 16);
            let grown = arena.realloc(a, l, 1000);
            assert_eq!(grown, a, "the last block grows where it is");
            let b = arena.alloc(l);
            assert!(
                b as usize >= a as usize + 1000,
                "the next block comes after the grown one"
            );
            let moved = arena.realloc(grown, layout(1000, 8), 5000);
            assert_ne!(moved, grown, "a block with one after it moves");
            assert!(moved as usize > b as usize);
            assert!(std::slice::from_raw_parts(moved, 16).iter().all(|&x| x == 7));
            assert_eq!(arena.realloc(moved, layout(5000, 8), 10), moved, "shrinking stays");
            // Past the region: mimalloc, bytes kept.
            let big = arena.realloc(moved, layout(5000, 8), 2 << 20);
            assert!(arena.offset_of(big).is_none());
            assert!(std::slice::from_raw_parts(big, 16).iter().all(|&x| x == 7));
            arena.dealloc(big, layout(2 << 20, 8));
            arena.dealloc(b, l);
        }
    }

    #[test]
    fn a_thread_using_two_arenas_keeps_their_blocks_apart() {
        let (a, b) = (Arena::new(1 << 20), Arena::new(1 << 20));
        let l = layout(24, 8);
        // SAFETY: non-zero sizes; each block is used with the arena and layout it came from.
        unsafe {
            let pa = a.alloc(l);
            let pb = b.alloc(l);
            let pa2 = a.alloc(l);
            assert!(a.offset_of(pa).is_some() && a.offset_of(pa2).is_some());
            assert!(b.offset_of(pb).is_some() && a.offset_of(pb).is_none());
            // `pa2` is the last block of `a`, but this thread's chunk is `b`'s again after this:
            let pb2 = b.alloc(l);
            assert!(b.offset_of(pb2).is_some());
            let moved = a.realloc(pa2, l, 100);
            assert!(a.offset_of(moved).is_some(), "stays in its own arena");
            assert!(b.offset_of(moved).is_none());
        }
    }

    #[test]
    fn threads_get_disjoint_blocks() {
        static ARENA: Arena = Arena::new(4 << 20);
        let handles: Vec<_> = (0..4u8)
            .map(|t| {
                std::thread::spawn(move || {
                    let mut mine = vec![];
                    for i in 0..2000usize {
                        let l = layout(8 + i % 200, 8);
                        // SAFETY: non-zero size; the block is ours alone.
                        let p = unsafe { ARENA.alloc(l) };
                        unsafe { p.write_bytes(t + 1, l.size()) };
                        mine.push((p as usize, l.size()));
                    }
                    (t + 1, mine)
                })
            })
            .collect();
        let all: Vec<_> = handles.into_iter().map(|h| h.join().expect("thread")).collect();
        for (fill, blocks) in &all {
            for &(p, size) in blocks {
                // SAFETY: every block is still allocated; another thread's write would show.
                let bytes = unsafe { std::slice::from_raw_parts(p as *const u8, size) };
                assert!(bytes.iter().all(|b| b == fill), "block written by another thread");
            }
        }
    }

    #[test]
    fn prefaulting_while_other_threads_allocate_leaves_their_bytes_alone() {
        static ARENA: Arena = Arena::new(8 << 20);
        let l = layout(4000, 16);
        // SAFETY: non-zero size; each block is written and read only by this thread.
        let first: Vec<usize> = (0..200)
            .map(|_| unsafe {
                let p = ARENA.alloc(l);
                p.write_bytes(0xAB, l.size());
                p as usize
            })
            .collect();
        let prefault = std::thread::spawn(|| ARENA.prefault(8 << 20));
        let second: Vec<usize> = (0..200)
            .map(|_| unsafe {
                let p = ARENA.alloc_zeroed(l);
                assert!(std::slice::from_raw_parts(p, l.size()).iter().all(|&b| b == 0));
                p.write_bytes(0xCD, l.size());
                p as usize
            })
            .collect();
        prefault.join().expect("prefault thread");
        for (blocks, fill) in [(first, 0xAB), (second, 0xCD)] {
            for p in blocks {
                // SAFETY: still allocated, `l.size()` bytes.
                let bytes = unsafe { std::slice::from_raw_parts(p as *const u8, l.size()) };
                assert!(bytes.iter().all(|&b| b == fill));
            }
        }
        // SAFETY: as above.
        let after = unsafe { ARENA.alloc_zeroed(l) };
        assert!(
            unsafe { std::slice::from_raw_parts(after, l.size()) }
                .iter()
                .all(|&b| b == 0)
        );
    }

    #[test]
    fn a_region_that_cannot_be_mapped_leaves_everything_to_mimalloc() {
        // More than the address space: the mapping fails, allocation still works.
        let arena = Arena::new(usize::MAX - REGION_ALIGN);
        let l = layout(64, 8);
        // SAFETY: non-zero size; freed with the same layout.
        unsafe {
            let p = arena.alloc(l);
            assert!(!p.is_null());
            assert!(arena.offset_of(p).is_none());
            arena.dealloc(p, l);
        }
        assert_eq!(arena.base.load(Ordering::Relaxed), FAILED);
    }
}
