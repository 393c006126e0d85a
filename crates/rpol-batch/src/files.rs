//! Files and streams for `rpol enforce`: Parquet read and written row group
//! by row group (memory bounded by a row group, whatever the file size), or
//! Arrow IPC streams (`-` for stdin/stdout).

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::Path;
use std::sync::Arc;

use arrow::array::{RecordBatch, RecordBatchReader};
use arrow::datatypes::SchemaRef;
use arrow::ipc::reader::StreamReader;
use arrow::ipc::writer::StreamWriter;
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use rpol_engine::Compiled;

use crate::{BatchError, Enforcer, Mapping, Options, Stats};

/// Rows per batch read from Parquet.
pub const BATCH_ROWS: usize = 64 * 1024;

/// Where rows come from or go: a file path, or `-` for an Arrow IPC stream
/// on stdin/stdout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Io<'a> {
    Parquet(&'a Path),
    Stdio,
}

impl<'a> Io<'a> {
    pub fn from_arg(arg: &'a Path) -> Io<'a> {
        if arg.as_os_str() == "-" {
            Io::Stdio
        } else {
            Io::Parquet(arg)
        }
    }
}

fn io_err(what: &str, path: &str, e: impl std::fmt::Display) -> BatchError {
    BatchError::one("E0908", format!("cannot {what} `{path}`: {e}"), None)
}

type Batches = Box<dyn Iterator<Item = Result<RecordBatch, BatchError>>>;

/// Opens the input: its schema, its batches and its row count when known.
fn open(input: &Io<'_>) -> Result<(SchemaRef, Batches, Option<u64>), BatchError> {
    match input {
        Io::Parquet(path) => {
            let name = path.display().to_string();
            let file = File::open(path).map_err(|e| io_err("open", &name, e))?;
            let builder = ParquetRecordBatchReaderBuilder::try_new(file)
                .map_err(|e| io_err("read Parquet file", &name, e))?;
            let total = u64::try_from(builder.metadata().file_metadata().num_rows()).ok();
            let reader = builder
                .with_batch_size(BATCH_ROWS)
                .build()
                .map_err(|e| io_err("read Parquet file", &name, e))?;
            let schema = reader.schema();
            let it = reader.map(move |b| b.map_err(|e| io_err("read Parquet file", &name, e)));
            Ok((schema, Box::new(it), total))
        }
        Io::Stdio => {
            let reader = StreamReader::try_new(BufReader::new(std::io::stdin()), None)
                .map_err(|e| io_err("read an Arrow IPC stream from", "-", e))?;
            let schema = reader.schema();
            let it = reader.map(|b| b.map_err(|e| io_err("read an Arrow IPC stream from", "-", e)));
            Ok((schema, Box::new(it), None))
        }
    }
}

enum Sink {
    Parquet(ArrowWriter<BufWriter<File>>, String),
    Ipc(StreamWriter<Box<dyn Write>>),
}

impl Sink {
    fn create(output: &Io<'_>, schema: SchemaRef) -> Result<Sink, BatchError> {
        match output {
            Io::Parquet(path) => {
                let name = path.display().to_string();
                let file = File::create(path).map_err(|e| io_err("create", &name, e))?;
                let props = WriterProperties::builder()
                    .set_compression(Compression::SNAPPY)
                    .build();
                let w = ArrowWriter::try_new(BufWriter::new(file), schema, Some(props))
                    .map_err(|e| io_err("write Parquet file", &name, e))?;
                Ok(Sink::Parquet(w, name))
            }
            Io::Stdio => {
                let out: Box<dyn Write> = Box::new(BufWriter::new(std::io::stdout()));
                let w = StreamWriter::try_new(out, &schema)
                    .map_err(|e| io_err("write an Arrow IPC stream to", "-", e))?;
                Ok(Sink::Ipc(w))
            }
        }
    }

    fn write(&mut self, b: &RecordBatch) -> Result<(), BatchError> {
        match self {
            Sink::Parquet(w, name) => w
                .write(b)
                .map_err(|e| io_err("write Parquet file", name, e)),
            Sink::Ipc(w) => w
                .write(b)
                .map_err(|e| io_err("write an Arrow IPC stream to", "-", e)),
        }
    }

    fn finish(self) -> Result<(), BatchError> {
        match self {
            Sink::Parquet(w, name) => w
                .close()
                .map(|_| ())
                .map_err(|e| io_err("write Parquet file", &name, e)),
            Sink::Ipc(mut w) => {
                w.finish()
                    .map_err(|e| io_err("write an Arrow IPC stream to", "-", e))?;
                w.get_mut()
                    .flush()
                    .map_err(|e| io_err("write an Arrow IPC stream to", "-", e))
            }
        }
    }
}

/// Enforces `policy` on every row of `input`, writing `output`. The mapping
/// is checked against the input's schema before any row is read.
/// `progress(rows_done, rows_total)` is called after each batch.
pub fn enforce(
    policy: Arc<Compiled>,
    mapping: &Mapping,
    input: &Io<'_>,
    output: &Io<'_>,
    options: Options,
    mut progress: impl FnMut(u64, Option<u64>),
) -> Result<Stats, BatchError> {
    let (schema, batches, total) = open(input)?;
    let mut enforcer = Enforcer::new(policy, mapping, &schema, options)?;
    let mut sink = Sink::create(output, enforcer.output_schema())?;
    for batch in batches {
        let out = enforcer.apply(&batch?)?;
        sink.write(&out)?;
        progress(enforcer.stats().rows_in, total);
    }
    sink.finish()?;
    Ok(enforcer.stats().clone())
}

/// Reads a whole IPC stream (tests and tools).
pub fn read_ipc(r: impl Read) -> Result<Vec<RecordBatch>, BatchError> {
    let reader = StreamReader::try_new(r, None)
        .map_err(|e| io_err("read an Arrow IPC stream from", "-", e))?;
    reader
        .map(|b| b.map_err(|e| io_err("read an Arrow IPC stream from", "-", e)))
        .collect()
}
