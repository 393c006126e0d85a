//! CPU time of the calling thread, from `/proc/thread-self/schedstat`, so
//! that figures mean something on a machine shared with other work.

/// Nanoseconds this thread has run on a CPU (updated at scheduler ticks:
/// means are over many calls); 0 where the file is not readable.
pub fn cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// Mean CPU nanoseconds of `f` over `n` calls, after a warm-up.
pub fn mean_cpu(n: u64, mut f: impl FnMut()) -> f64 {
    for _ in 0..n / 10 + 1 {
        f();
    }
    let t0 = cpu_ns();
    for _ in 0..n {
        f();
    }
    (cpu_ns() - t0) as f64 / n as f64
}
