//! `rpol enforce` as the real binary on a small generated Parquet file: its
//! output equals the library's on the same rows, Parquet and Arrow IPC
//! alike, and a wrong mapping or option is a coded error before any row.
#![cfg(feature = "enforce")]

mod common;

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;

use arrow::array::{
    ArrayRef, DictionaryArray, Int64Array, RecordBatch, StringArray, TimestampMillisecondArray,
};
use arrow::datatypes::Int32Type;
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

const MAPPING: &str = "tenant: tenant\nsurface: {value: home}\nsubject.user_id: user_id\nconsent.personalization: consent_p\nconsent.training: consent_t\ncontext.device: device\nevent_time: ts\nkind: {value: raw_behavior_events}\n";
const NOW: &str = "2025-12-01T00:00:00Z";
const NOW_MS: i64 = 1_764_547_200_000;

fn scratch(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rpol-enforce-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// 500 rows: every consent state, an undeclared device, nulls, ages on both
/// sides of the 90-day retention.
fn events() -> RecordBatch {
    let n = 500;
    let states = [Some("granted"), Some("denied"), Some("unknown"), None];
    let devices = [Some("mobile"), Some("tv"), Some("toaster"), None];
    let cols: Vec<(&str, ArrayRef)> = vec![
        (
            "tenant",
            Arc::new(StringArray::from_iter(
                (0..n).map(|i| (i % 17 != 0).then_some("acme")),
            )),
        ),
        (
            "user_id",
            Arc::new(StringArray::from_iter(
                (0..n).map(|i| (i % 5 != 0).then(|| format!("u{i}"))),
            )),
        ),
        (
            "consent_p",
            Arc::new(
                (0..n)
                    .map(|i| states[i % 4])
                    .collect::<DictionaryArray<Int32Type>>(),
            ),
        ),
        (
            "consent_t",
            Arc::new(
                (0..n)
                    .map(|i| states[i / 4 % 4])
                    .collect::<DictionaryArray<Int32Type>>(),
            ),
        ),
        (
            "device",
            Arc::new(StringArray::from_iter((0..n).map(|i| devices[i / 16 % 4]))),
        ),
        (
            "ts",
            Arc::new(TimestampMillisecondArray::from_iter_values(
                (0..n).map(|i| NOW_MS - (i as i64 % 120) * 86_400_000),
            )),
        ),
        (
            "user_embedding",
            Arc::new(Int64Array::from_iter_values(0..n as i64)),
        ),
        (
            "item_quality_score",
            Arc::new(Int64Array::from_iter(
                (0..n as i64).map(|i| (i % 9 != 0).then_some(i)),
            )),
        ),
        (
            "item_id",
            Arc::new(Int64Array::from_iter_values(0..n as i64)),
        ),
    ];
    RecordBatch::try_from_iter(cols).unwrap()
}

fn write_parquet(path: &Path, b: &RecordBatch) {
    let mut w = ArrowWriter::try_new(File::create(path).unwrap(), b.schema(), None).unwrap();
    w.write(b).unwrap();
    w.close().unwrap();
}

fn read_parquet(path: &Path) -> Vec<RecordBatch> {
    ParquetRecordBatchReaderBuilder::try_new(File::open(path).unwrap())
        .unwrap()
        .build()
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn rpol(dir: &Path, args: &[&str], stdin: Option<Vec<u8>>) -> (i32, Vec<u8>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rpol"))
        .args(args)
        .current_dir(common::workspace())
        .env("NO_COLOR", "1")
        .env("RPOL_TEST_DIR", dir)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(bytes) = stdin {
        let mut i = child.stdin.take().unwrap();
        std::thread::spawn(move || i.write_all(&bytes));
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// What the library gives for the same rows and options.
fn library(b: &RecordBatch) -> RecordBatch {
    let path = common::workspace().join("policies/home");
    let policy = Arc::new(rpol_check::policy_load::load_policy(&path, None).unwrap().0);
    let mapping = rpol_batch::Mapping::from_yaml(MAPPING, "m").unwrap();
    let opts = rpol_batch::Options {
        purpose: Some("training".into()),
        drop: rpol_batch::DropWhen::parse("invalid,no_features,expired").unwrap(),
        now_unix_ms: NOW_MS,
        denied_column: false,
    };
    let mut e = rpol_batch::Enforcer::new(policy, &mapping, &b.schema(), opts).unwrap();
    e.apply(b).unwrap()
}

#[test]
fn parquet_in_parquet_out_equals_the_library() {
    let dir = scratch("parquet");
    let (input, output, map) = (
        dir.join("in.parquet"),
        dir.join("out.parquet"),
        dir.join("map.yaml"),
    );
    let b = events();
    write_parquet(&input, &b);
    std::fs::write(&map, MAPPING).unwrap();
    let (code, stdout, stderr) = rpol(
        &dir,
        &[
            "enforce",
            "policies/home",
            "--input",
            input.to_str().unwrap(),
            "--output",
            output.to_str().unwrap(),
            "--map",
            map.to_str().unwrap(),
            "--purpose",
            "training",
            "--drop",
            "invalid,no_features,expired",
            "--now",
            NOW,
            "--format",
            "json",
        ],
        None,
    );
    assert_eq!(code, 0, "{stderr}");
    let want = library(&b);
    let got = read_parquet(&output);
    let got = arrow::compute::concat_batches(&got[0].schema(), &got).unwrap();
    assert_eq!(got.num_rows(), want.num_rows());
    assert!(want.num_rows() > 0 && want.num_rows() < b.num_rows());
    for name in [
        "item_id",
        "user_embedding",
        "item_quality_score",
        "rpol_mode",
    ] {
        let g = got.column_by_name(name).unwrap();
        let w = want.column_by_name(name).unwrap();
        if name == "rpol_mode" {
            let cast =
                |a: &ArrayRef| arrow::compute::cast(a, &arrow::datatypes::DataType::Utf8).unwrap();
            assert_eq!(cast(g).as_ref(), cast(w).as_ref());
        } else {
            assert_eq!(g.as_ref(), w.as_ref(), "column {name}");
        }
    }
    let summary: serde_json::Value = serde_json::from_slice(&stdout).unwrap();
    assert_eq!(summary["rows_in"], 500);
    assert_eq!(summary["rows_out"], want.num_rows());
    let dropped = ["dropped_invalid", "dropped_expired", "dropped_no_features"]
        .iter()
        .map(|k| summary[k].as_u64().unwrap())
        .sum::<u64>();
    assert_eq!(dropped, 500 - want.num_rows() as u64);
    assert!(summary["dropped_expired"].as_u64().unwrap() > 0);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn ipc_streams_on_stdin_and_stdout() {
    let dir = scratch("ipc");
    let map = dir.join("map.yaml");
    std::fs::write(&map, MAPPING).unwrap();
    let b = events();
    let mut bytes = Vec::new();
    {
        let mut w = arrow::ipc::writer::StreamWriter::try_new(&mut bytes, &b.schema()).unwrap();
        w.write(&b.slice(0, 200)).unwrap();
        w.write(&b.slice(200, 300)).unwrap();
        w.finish().unwrap();
    }
    let (code, stdout, stderr) = rpol(
        &dir,
        &[
            "enforce",
            "policies/home",
            "--input",
            "-",
            "--output",
            "-",
            "--map",
            map.to_str().unwrap(),
            "--purpose",
            "training",
            "--drop",
            "invalid,no_features,expired",
            "--now",
            NOW,
        ],
        Some(bytes),
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("rows in: 500"), "{stderr}");
    let got = rpol_batch::files::read_ipc(&stdout[..]).unwrap();
    let got = arrow::compute::concat_batches(&got[0].schema(), &got).unwrap();
    let want = library(&b);
    assert_eq!(
        got.column_by_name("item_id"),
        want.column_by_name("item_id")
    );
    assert_eq!(
        got.column_by_name("user_embedding"),
        want.column_by_name("user_embedding")
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn mapping_and_option_errors_are_coded_and_placed() {
    let dir = scratch("errors");
    let input = dir.join("in.parquet");
    write_parquet(&input, &events());
    let map = dir.join("map.yaml");
    std::fs::write(&map, "tenant: tenant\nsurface: {value: home}\npurpose: {value: training}\nsubject.user_id: userid\n").unwrap();
    let out = dir.join("out.parquet");
    let args = |extra: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = [
            "enforce",
            "policies/home",
            "--input",
            input.to_str().unwrap(),
            "--output",
            out.to_str().unwrap(),
            "--map",
            map.to_str().unwrap(),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    let run = |extra: &[&str]| {
        let a = args(extra);
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        rpol(&dir, &a, None)
    };
    let (code, _, stderr) = run(&[]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains(&format!("error[E0903]: `subject.user_id` maps to column `userid`, which the table does not have at {}:4:18", map.display())),
        "{stderr}"
    );
    assert!(stderr.contains("did you mean `user_id`?"), "{stderr}");
    assert!(!out.exists(), "nothing is written for a wrong mapping");
    std::fs::write(&map, MAPPING).unwrap();
    let (code, _, stderr) = run(&["--drop", "old"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("error[E0909]: `old` is not a reason to drop rows"),
        "{stderr}"
    );
    let (code, _, stderr) = run(&["--drop", "expired", "--purpose", "training"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("`--drop expired` needs `--now`"),
        "{stderr}"
    );
    let (code, _, stderr) = run(&["--now", "yesterday", "--purpose", "training"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("error[E0909]: `yesterday` is not an RFC 3339 time"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
