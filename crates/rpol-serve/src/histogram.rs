//! A histogram of durations whose observation takes no lock: one atomic add
//! to a bucket and one to the sum. `prometheus_client`'s own `Histogram`
//! takes a write lock per observation, which every decision (a batch of
//! 10,000 is 10,000 observations, from several threads) would contend on.
//! It is encoded through `prometheus_client`'s encoder like the library's
//! histogram, so the exposition is the same: same buckets (the bounds given,
//! then `+Inf`), `_sum` in seconds, `_count`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use prometheus_client::encoding::{EncodeMetric, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::{MetricType, TypedMetric};

#[derive(Debug, Clone)]
pub struct DurationHistogram {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// Upper bounds in seconds, the last `f64::MAX` (`+Inf` once encoded,
    /// as `prometheus_client` writes it).
    bounds: Vec<f64>,
    /// Observations per bucket (not cumulative), one per bound.
    counts: Vec<AtomicU64>,
    /// Sum of observations, in nanoseconds.
    sum_ns: AtomicU64,
}

impl DurationHistogram {
    /// Buckets with upper bounds `bounds` (seconds, increasing) and `+Inf`.
    pub fn new(bounds: &[f64]) -> DurationHistogram {
        let bounds: Vec<f64> = bounds.iter().copied().chain([f64::MAX]).collect();
        let counts = bounds.iter().map(|_| AtomicU64::new(0)).collect();
        DurationHistogram {
            inner: Arc::new(Inner {
                bounds,
                counts,
                sum_ns: AtomicU64::new(0),
            }),
        }
    }

    /// Records one duration in the first bucket whose bound it does not
    /// exceed (as `prometheus_client` does).
    pub fn observe(&self, d: Duration) {
        if let Some(c) = self.inner.counts.get(self.bucket(d.as_secs_f64())) {
            c.fetch_add(1, Ordering::Relaxed);
        }
        self.inner.sum_ns.fetch_add(nanos(d), Ordering::Relaxed);
    }

    /// Adds what a [`Tally`] of this histogram's buckets counted: one atomic
    /// add per bucket used, for however many observations.
    pub fn observe_many(&self, t: &Tally) {
        for (c, &n) in self.inner.counts.iter().zip(&t.counts) {
            if n > 0 {
                // Relaxed: the counts are independent totals; a scrape may
                // see one observation's bucket before its sum, never a torn value.
                c.fetch_add(n, Ordering::Relaxed);
            }
        }
        self.inner.sum_ns.fetch_add(t.sum_ns, Ordering::Relaxed);
    }

    /// The bucket of a duration of `secs` seconds.
    fn bucket(&self, secs: f64) -> usize {
        let b = &self.inner.bounds;
        b.iter()
            .position(|&ub| ub >= secs)
            .unwrap_or(b.len().saturating_sub(1))
    }

    /// (sum in seconds, count, (upper bound, count) per bucket).
    fn snapshot(&self) -> (f64, u64, Vec<(f64, u64)>) {
        let buckets: Vec<(f64, u64)> = self
            .inner
            .bounds
            .iter()
            .zip(&self.inner.counts)
            .map(|(&ub, c)| (ub, c.load(Ordering::Relaxed)))
            .collect();
        // The count is the buckets' total, so `_count` always equals the
        // `+Inf` bucket in one scrape.
        let count = buckets.iter().map(|&(_, n)| n).sum();
        let sum = self.inner.sum_ns.load(Ordering::Relaxed) as f64 / 1e9;
        (sum, count, buckets)
    }
}

/// Observations counted locally (no atomics), added to a
/// [`DurationHistogram`] at once: a batch tallies its decisions here.
#[derive(Debug, Clone)]
pub struct Tally {
    counts: Vec<u64>,
    sum_ns: u64,
}

impl Tally {
    pub fn new(h: &DurationHistogram) -> Tally {
        Tally {
            counts: vec![0; h.inner.bounds.len()],
            sum_ns: 0,
        }
    }

    /// Counts one duration in the bucket `h` would put it in.
    pub fn add(&mut self, h: &DurationHistogram, d: Duration) {
        if let Some(c) = self.counts.get_mut(h.bucket(d.as_secs_f64())) {
            *c += 1;
        }
        self.sum_ns = self.sum_ns.saturating_add(nanos(d));
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

impl TypedMetric for DurationHistogram {
    const TYPE: MetricType = MetricType::Histogram;
}

impl EncodeMetric for DurationHistogram {
    fn encode(&self, mut encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
        let (sum, count, buckets) = self.snapshot();
        encoder.encode_histogram::<NoLabelSet>(sum, count, &buckets, None)
    }

    fn metric_type(&self) -> MetricType {
        Self::TYPE
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prometheus_client::encoding::text::encode;
    use prometheus_client::metrics::histogram::Histogram;
    use prometheus_client::registry::Registry;

    const BOUNDS: [f64; 4] = [1e-6, 1e-5, 1e-4, 1e-3];

    fn render(register: impl FnOnce(&mut Registry)) -> String {
        let mut r = Registry::default();
        register(&mut r);
        let mut out = String::new();
        encode(&mut out, &r).unwrap_or_default();
        out
    }

    /// The exposition equals the library histogram's for the same
    /// observations (durations whose sum in seconds is exact in binary, so
    /// the two sums print the same).
    #[test]
    fn exposition_is_the_library_histograms() {
        let ours = DurationHistogram::new(&BOUNDS);
        let theirs = Histogram::new(BOUNDS);
        let durations = [0.0, 1e-6, 2e-6, 0.5, 2.0, 1e-3, 0.25];
        let mut tally = Tally::new(&ours);
        for (i, &s) in durations.iter().enumerate() {
            let d = Duration::from_secs_f64(s);
            if i % 2 == 0 {
                ours.observe(d);
            } else {
                tally.add(&ours, d);
            }
            theirs.observe(d.as_secs_f64());
        }
        ours.observe_many(&tally);
        let a = render(|r| r.register("h", "help", ours.clone()));
        let b = render(|r| r.register("h", "help", theirs.clone()));
        let strip_sum = |s: &str| {
            s.lines()
                .filter(|l| !l.starts_with("h_sum"))
                .collect::<Vec<_>>()
                .join("\n")
        };
        assert_eq!(strip_sum(&a), strip_sum(&b));
        assert!(a.contains("h_count 7"), "{a}");
        assert!(a.contains("h_bucket{le=\"0.000001\"} 2"), "{a}");
        assert!(a.contains("h_bucket{le=\"+Inf\"} 7"), "{a}");
        let sum: f64 = a
            .lines()
            .find_map(|l| l.strip_prefix("h_sum "))
            .and_then(|v| v.parse().ok())
            .unwrap_or(f64::NAN);
        assert!((sum - durations.iter().sum::<f64>()).abs() < 1e-9, "{sum}");
    }

    #[test]
    fn threads_lose_no_observation() {
        let h = DurationHistogram::new(&BOUNDS);
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for i in 0..10_000u64 {
                        h.observe(Duration::from_nanos(i % 3000));
                    }
                });
            }
        });
        let (_, count, buckets) = h.snapshot();
        assert_eq!(count, 40_000);
        // 0..=1000 ns fall in the first bucket (≤ 1 µs): 1001 of each 3000.
        let first: u64 = (0..10_000u64).filter(|i| i % 3000 <= 1000).count() as u64 * 4;
        assert_eq!(buckets.first().map(|b| b.1), Some(first));
    }
}
