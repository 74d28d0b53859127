//! Small helpers every layer uses: number formatting, the stable hash behind fingerprints and
//! generated names, splitting work across cores, and the observer of long work. Depends on
//! nothing else in the crate.

/// A number as people write it: whole numbers without a fraction (`90`, not `90.0`), the rest in
/// Rust's shortest round-trip form. Messages and generated HCL use the same form.
pub fn format_number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        format!("{value}")
    }
}

/// FNV-1a, 64-bit: a stable hash (unlike std's, which may change between releases) for
/// fingerprints and generated names. Parts are separated, so `["ab", ""]` and `["a", "b"]` differ.
pub fn stable_hash(parts: &[&str]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in part.bytes().chain(std::iter::once(0x1f)) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    hash
}

/// Worker threads for CPU-bound work: one per core, at most eight (beyond that the shares get
/// small and memory bandwidth, not cores, is the limit).
pub fn workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get()).min(8)
}

/// Maps `work` over `items` split into one contiguous share per worker, and returns the shares'
/// results in order. Below `min_items` (where starting threads costs more than it saves) it runs
/// on the calling thread.
pub fn par_chunks<T: Sync, R: Send>(items: &[T], min_items: usize, work: impl Fn(&[T]) -> R + Sync) -> Vec<R> {
    let threads = if items.len() < min_items { 1 } else { workers() };
    par_chunks_on(items, threads, work)
}

/// [`par_chunks`] on exactly `threads` threads (fewer when there are fewer items).
pub fn par_chunks_on<T: Sync, R: Send>(items: &[T], threads: usize, work: impl Fn(&[T]) -> R + Sync) -> Vec<R> {
    let threads = threads.min(items.len());
    if threads <= 1 {
        return vec![work(items)];
    }
    let share = items.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let work = &work;
        let handles: Vec<_> = items.chunks(share).map(|part| scope.spawn(move || work(part))).collect();
        handles.into_iter().map(|handle| handle.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))).collect()
    })
}

/// Maps `work` over `items` on up to `threads` threads, each taking the next item in turn, and
/// returns the results in item order. For items of uneven cost, or owned items each freed as
/// soon as its work is done (unlike [`par_chunks`], which borrows its items).
pub fn par_map<T: Send, R: Send>(items: Vec<T>, threads: usize, work: impl Fn(T) -> R + Sync) -> Vec<R> {
    let threads = threads.min(items.len());
    if threads <= 1 {
        return items.into_iter().map(work).collect();
    }
    let queue = std::sync::Mutex::new(items.into_iter().enumerate());
    let work = &work;
    let mut done: Vec<(usize, R)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let next = queue.lock().unwrap_or_else(std::sync::PoisonError::into_inner).next();
                        let Some((index, item)) = next else { return mine };
                        mine.push((index, work(item)));
                    }
                })
            })
            .collect();
        handles.into_iter().flat_map(|handle| handle.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))).collect()
    });
    done.sort_unstable_by_key(|(index, _)| *index);
    done.into_iter().map(|(_, result)| result).collect()
}

/// Observes long work, for a progress bar: the library calls it and stays silent with
/// [`NoProgress`]; the command line draws a bar with it on a terminal. Called from worker threads.
pub trait Progress: Sync {
    /// A stage of `steps` steps begins (0 when its length is not known).
    fn stage(&self, _what: &str, _steps: u64) {}
    /// `steps` more steps of the current stage are done.
    fn advance(&self, _steps: u64) {}
}

/// The observer that ignores everything: what the library's plain entry points pass.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_as_people_write_them() {
        assert_eq!(format_number(90.0), "90");
        assert_eq!(format_number(0.02), "0.02");
        assert_eq!(format_number(-3.0), "-3");
        assert_eq!(format_number(10737418240.0), "10737418240");
        assert_eq!(format_number(1e20), "100000000000000000000");
    }

    #[test]
    fn stable_hash_is_stable_and_separates_parts() {
        assert_eq!(stable_hash(&["a", "b"]), stable_hash(&["a", "b"]));
        assert_ne!(stable_hash(&["ab", ""]), stable_hash(&["a", "b"]));
        // Pinned: fingerprints in users' baselines depend on this value never changing.
        assert_eq!(format!("{:016x}", stable_hash(&["missing-alarm"])), "6216ae38451bc9a4");
    }

    #[test]
    fn shares_come_back_in_order_and_cover_everything() {
        let items: Vec<u32> = (0..10_000).collect();
        let sums = par_chunks(&items, 100, |part| (part[0], part.iter().map(|&i| u64::from(i)).sum::<u64>()));
        assert!(sums.windows(2).all(|w| w[0].0 < w[1].0), "shares out of order");
        assert_eq!(sums.iter().map(|s| s.1).sum::<u64>(), (0..10_000u64).sum::<u64>());
        assert_eq!(par_chunks(&items[..5], 100, |part| part.len()), vec![5]);
    }

    #[test]
    fn mapped_items_come_back_in_item_order() {
        // Uneven work: later items finish first, and the order still holds.
        let items: Vec<u64> = (0..200).collect();
        let squares = par_map(items, 4, |i| {
            std::thread::sleep(std::time::Duration::from_micros(200 - i));
            i * i
        });
        assert_eq!(squares, (0..200u64).map(|i| i * i).collect::<Vec<_>>());
        assert_eq!(par_map(vec![3], 4, |i: u32| i + 1), vec![4]);
        assert!(par_map(Vec::<u8>::new(), 4, |i| i).is_empty());
    }
}
