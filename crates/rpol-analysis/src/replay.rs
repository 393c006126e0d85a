//! Decision-log replay: decide every logged request again under a policy and
//! report what would change (docs/decision-logs.md).
//!
//! The log is read on the calling thread in chunks of lines; worker threads
//! replay chunks, and their reports are merged in chunk order, so counts and
//! "first examples" are the same whatever the number of threads.
//!
//! Fail-safe: a line that is not a log line is reported as malformed with its
//! line number; a logged request that is invalid now, or that cannot be
//! decided again faithfully, is reported as such, never as "no change"
//! ([`ReplayReport::unchanged`] is true only when every decision was decided
//! again and none changed).

mod compare;
mod line;
mod report;

use std::collections::BTreeMap;
use std::io::{self, BufRead};
use std::sync::{Mutex, mpsc};

use rpol_engine::Compiled;

pub use compare::codes_text;
pub use report::{
    ChangeKind, Example, Issues, KindChanges, MAX_DIGESTS, Malformed, NowInvalid, Refused,
    ReplayReport, Seen, Undecidable,
};

/// A longer line is malformed (a request is at most 1 MiB; the rest of a line
/// is small). Reading stops keeping its bytes at this size.
pub const MAX_LINE_BYTES: usize = 2 * 1024 * 1024;

/// Lines per chunk handed to a worker: large enough that channel traffic is
/// negligible, small enough that both cores stay busy to the end.
const CHUNK_LINES: usize = 2048;

#[derive(Debug, Clone)]
pub struct ReplayOptions {
    /// Examples kept per kind of change (and per kind of problem).
    pub max_examples: usize,
    /// Worker threads; 0 uses every available core.
    pub threads: usize,
}

impl Default for ReplayOptions {
    fn default() -> Self {
        ReplayOptions {
            max_examples: 5,
            threads: 0,
        }
    }
}

/// How far a replay got: bytes and lines of the log fully replayed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub bytes: u64,
    pub lines: u64,
}

/// The log could not be read (a malformed line is not an error: it is in the
/// report).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot read the log at line {line}: {message}")]
pub struct ReplayError {
    pub line: u64,
    pub message: String,
}

/// A run of lines: `data` holds them back to back, `spans` their byte ranges
/// (`None` for a line longer than [`MAX_LINE_BYTES`], whose bytes were dropped).
struct Chunk {
    index: usize,
    first_line: u64,
    bytes: u64,
    data: Vec<u8>,
    spans: Vec<Option<(usize, usize)>>,
}

/// Replays every line of `log` under `compiled`. `progress` is called on the
/// calling thread as chunks complete.
pub fn replay(
    compiled: &Compiled,
    mut log: impl BufRead,
    opts: &ReplayOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<ReplayReport, ReplayError> {
    let threads = match opts.threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    let ctx = compare::Ctx::new(compiled, opts.max_examples);
    let mut total = ReplayReport::empty();
    total.digest = compiled.digest().to_string();
    let (work_tx, work_rx) = mpsc::sync_channel::<Chunk>(threads * 2);
    let work_rx = Mutex::new(work_rx);
    let (done_tx, done_rx) = mpsc::channel::<(usize, u64, ReplayReport)>();
    std::thread::scope(|s| {
        for _ in 0..threads {
            let done_tx = done_tx.clone();
            let (ctx, work_rx) = (&ctx, &work_rx);
            s.spawn(move || {
                loop {
                    // A poisoned lock means another worker panicked; the scope
                    // re-raises that panic, so this one just stops.
                    let next = match work_rx.lock() {
                        Ok(rx) => rx.recv(),
                        Err(_) => return,
                    };
                    let Ok(chunk) = next else { return };
                    let report = replay_chunk(ctx, &chunk);
                    if done_tx.send((chunk.index, chunk.bytes, report)).is_err() {
                        return;
                    }
                }
            });
        }
        drop(done_tx);
        let mut merger = Merger {
            next: 0,
            pending: BTreeMap::new(),
            done: Progress { bytes: 0, lines: 0 },
        };
        let read = read_chunks(&mut log, |chunk| {
            // Blocks while the workers are behind, bounding memory.
            let _ = work_tx.send(chunk);
            while let Ok(r) = done_rx.try_recv() {
                merger.take(r, &mut total, opts.max_examples, progress);
            }
        });
        drop(work_tx);
        for r in done_rx.iter() {
            merger.take(r, &mut total, opts.max_examples, progress);
        }
        read
    })?;
    Ok(total)
}

/// Merges chunk reports in chunk order, whatever order they finish in.
struct Merger {
    next: usize,
    pending: BTreeMap<usize, (u64, ReplayReport)>,
    done: Progress,
}

impl Merger {
    fn take(
        &mut self,
        (index, bytes, report): (usize, u64, ReplayReport),
        total: &mut ReplayReport,
        max: usize,
        progress: &mut dyn FnMut(Progress),
    ) {
        self.pending.insert(index, (bytes, report));
        while let Some((bytes, r)) = self.pending.remove(&self.next) {
            self.done.bytes += bytes;
            self.done.lines += r.lines;
            total.merge(r, max);
            self.next += 1;
            progress(self.done);
        }
    }
}

/// Reads the log into chunks and hands each to `emit`.
fn read_chunks(log: &mut impl BufRead, mut emit: impl FnMut(Chunk)) -> Result<(), ReplayError> {
    let mut line_no = 0u64;
    let mut index = 0usize;
    loop {
        let mut chunk = Chunk {
            index,
            first_line: line_no + 1,
            bytes: 0,
            data: Vec::with_capacity(1 << 20),
            spans: Vec::with_capacity(CHUNK_LINES),
        };
        let mut eof = false;
        while chunk.spans.len() < CHUNK_LINES {
            let start = chunk.data.len();
            let (consumed, too_long) =
                read_line(log, &mut chunk.data, MAX_LINE_BYTES).map_err(|e| ReplayError {
                    line: line_no + 1,
                    message: e.to_string(),
                })?;
            if consumed == 0 {
                eof = true;
                break;
            }
            line_no += 1;
            chunk.bytes += consumed as u64;
            chunk
                .spans
                .push((!too_long).then_some((start, chunk.data.len())));
        }
        if !chunk.spans.is_empty() {
            emit(chunk);
            index += 1;
        }
        if eof {
            return Ok(());
        }
    }
}

/// Appends one line (with its `\n`) to `buf`; returns the bytes consumed
/// (0 at the end) and whether the line was longer than `cap` (then nothing
/// of it is kept, and the rest of it is skipped).
fn read_line(r: &mut impl BufRead, buf: &mut Vec<u8>, cap: usize) -> io::Result<(usize, bool)> {
    let start = buf.len();
    let (mut consumed, mut too_long) = (0usize, false);
    loop {
        let avail = match r.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if avail.is_empty() {
            break;
        }
        let (take, done) = match avail.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (avail.len(), false),
        };
        if !too_long {
            if buf.len() - start + take > cap {
                too_long = true;
                buf.truncate(start);
            } else {
                buf.extend_from_slice(&avail[..take]);
            }
        }
        r.consume(take);
        consumed += take;
        if done {
            break;
        }
    }
    Ok((consumed, too_long))
}

fn replay_chunk(ctx: &compare::Ctx<'_>, chunk: &Chunk) -> ReplayReport {
    let mut out = ReplayReport::empty();
    for (k, span) in chunk.spans.iter().enumerate() {
        let lineno = chunk.first_line + k as u64;
        out.lines += 1;
        let Some((a, b)) = *span else {
            out.malformed.push(ctx.max_examples, || Malformed {
                line: lineno,
                message: format!("the line is longer than {MAX_LINE_BYTES} bytes"),
            });
            continue;
        };
        let bytes = &chunk.data[a..b];
        let Ok(text) = std::str::from_utf8(bytes) else {
            out.malformed.push(ctx.max_examples, || Malformed {
                line: lineno,
                message: "the line is not valid UTF-8".to_string(),
            });
            continue;
        };
        if text.trim().is_empty() {
            out.blank_lines += 1;
            continue;
        }
        compare::replay_line(ctx, &mut out, lineno, text);
    }
    out
}
