//! The decision log: lines (docs/decision-logs.md) go through a bounded
//! channel to one writer thread, so serving never waits on the disk. When the
//! channel is full the line is dropped and counted.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError, sync_channel};
use std::thread::JoinHandle;
use std::time::Duration;

use prometheus_client::metrics::counter::Counter;

/// Lines waiting for the writer before new ones are dropped.
pub const CHANNEL_LINES: usize = 65_536;

enum Msg {
    Line(String),
    Stop,
}

pub struct DecisionLog {
    tx: SyncSender<Msg>,
    dropped: Counter,
    thread: std::sync::Mutex<Option<JoinHandle<()>>>,
}

impl DecisionLog {
    /// Opens `path` for appending and starts the writer.
    pub fn open(path: &Path, dropped: Counter) -> std::io::Result<DecisionLog> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        let (tx, rx) = sync_channel(CHANNEL_LINES);
        let thread = std::thread::Builder::new()
            .name("rpol-decision-log".into())
            .spawn(move || writer(file, rx))?;
        Ok(DecisionLog {
            tx,
            dropped,
            thread: std::sync::Mutex::new(Some(thread)),
        })
    }

    /// Queues a line without waiting; a full queue drops it (counted).
    pub fn send(&self, line: String) {
        match self.tx.try_send(Msg::Line(line)) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
                self.dropped.inc();
            }
        }
    }

    /// Writes every queued line, flushes and stops the writer.
    pub fn close(&self) {
        let handle = self
            .thread
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(h) = handle {
            // Waiting here is fine: the server has stopped accepting.
            let _ = self.tx.send(Msg::Stop);
            let _ = h.join();
        }
    }
}

fn writer(file: File, rx: Receiver<Msg>) {
    let mut out = BufWriter::with_capacity(1 << 16, file);
    let mut failed = false;
    let mut write = |out: &mut BufWriter<File>, line: &str| {
        let r = out
            .write_all(line.as_bytes())
            .and_then(|()| out.write_all(b"\n"));
        if let Err(e) = r
            && !failed
        {
            // Reported once; serving goes on.
            eprintln!("rpol serve: error: cannot write the decision log: {e}");
            failed = true;
        }
    };
    loop {
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(Msg::Line(line)) => {
                write(&mut out, &line);
                // Batch what is already queued before flushing.
                while let Ok(msg) = rx.try_recv() {
                    match msg {
                        Msg::Line(l) => write(&mut out, &l),
                        Msg::Stop => {
                            let _ = out.flush();
                            return;
                        }
                    }
                }
                let _ = out.flush();
            }
            Ok(Msg::Stop) | Err(RecvTimeoutError::Disconnected) => {
                let _ = out.flush();
                return;
            }
            Err(RecvTimeoutError::Timeout) => {}
        }
    }
}
