//! Writes a benchmark setup into DIR: a copy of the bundled home policy with
//! a registry of ten features (the eight bundled ones and two more public
//! ones), a mapping, and `events.parquet` of ROWS generated event rows with
//! the ten feature columns. For measuring `rpol enforce`; nothing of it is
//! committed.
//!
//! cargo run --release -p rpol-batch --features parquet --example gen_events -- DIR ROWS

use std::fs::{self, File};
use std::path::Path;
use std::sync::Arc;

use arrow::array::{
    ArrayRef, DictionaryArray, Float64Array, Int64Array, RecordBatch, StringArray,
    TimestampMillisecondArray,
};
use arrow::datatypes::Int32Type;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

const EXTRA: &str = "  - name: item_freshness
    entity: item
    privacy_class: public_catalog
    allowed_privacy_modes: [personalized, contextual_only, non_personalized]
    allowed_purposes: [personalization, quality_monitoring, ads_targeting, training]
  - name: item_price_band
    entity: item
    privacy_class: public_catalog
    allowed_privacy_modes: [personalized, contextual_only, non_personalized]
    allowed_purposes: [personalization, quality_monitoring, ads_targeting, training]
";

const MAPPING: &str = "tenant: tenant
surface: {value: home}
purpose: {value: training}
subject.user_id: user_id
consent.personalization: consent_personalization
consent.training: consent_training
context.region: region
context.device: device
event_time: event_time
kind: {value: raw_behavior_events}
";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(dir), Some(rows)) = (args.get(1), args.get(2)) else {
        return Err("usage: gen_events DIR ROWS".into());
    };
    let rows: usize = rows.parse()?;
    let dir = Path::new(dir);
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    fs::create_dir_all(dir.join("home"))?;
    fs::copy(
        root.join("policies/home/home.rpol"),
        dir.join("home/home.rpol"),
    )?;
    let registry = fs::read_to_string(root.join("policies/features.yaml"))?;
    fs::write(dir.join("features.yaml"), registry + EXTRA)?;
    fs::write(dir.join("mapping.yaml"), MAPPING)?;

    let features = [
        "user_category_affinity_30d",
        "user_embedding",
        "recent_click_count",
        "inferred_health_interest",
        "item_quality_score",
        "region_popularity",
        "context_local_hour",
        "device_type",
        "item_freshness",
        "item_price_band",
    ];
    let mut writer: Option<ArrowWriter<File>> = None;
    let chunk = 1 << 16;
    let now_ms: i64 = 1_764_547_200_000;
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut start = 0;
    while start < rows {
        let n = chunk.min(rows - start);
        let r: Vec<u64> = (0..n).map(|_| next()).collect();
        let pick = |k: usize, vals: &'static [&'static str]| -> Vec<Option<&'static str>> {
            r.iter()
                .map(|x| {
                    let i = (x >> (k * 5)) as usize % (vals.len() + 1);
                    vals.get(i).copied()
                })
                .collect()
        };
        let user: Vec<Option<String>> = r
            .iter()
            .map(|x| (x % 10 != 0).then(|| format!("u{}", x % 100_000)))
            .collect();
        let mut cols: Vec<(&str, ArrayRef)> = vec![
            (
                "tenant",
                Arc::new(
                    pick(1, &["acme", "globex"])
                        .into_iter()
                        .collect::<DictionaryArray<Int32Type>>(),
                ),
            ),
            ("user_id", Arc::new(StringArray::from(user))),
            (
                "consent_personalization",
                Arc::new(
                    pick(2, &["granted", "granted", "denied", "unknown"])
                        .into_iter()
                        .collect::<DictionaryArray<Int32Type>>(),
                ),
            ),
            (
                "consent_training",
                Arc::new(
                    pick(3, &["granted", "denied", "unknown"])
                        .into_iter()
                        .collect::<DictionaryArray<Int32Type>>(),
                ),
            ),
            (
                "region",
                Arc::new(StringArray::from(pick(4, &["ID", "EU", "US"]))),
            ),
            (
                "device",
                Arc::new(
                    pick(5, &["mobile", "desktop", "tv"])
                        .into_iter()
                        .collect::<DictionaryArray<Int32Type>>(),
                ),
            ),
            (
                "event_time",
                Arc::new(
                    TimestampMillisecondArray::from_iter_values(
                        r.iter().map(|x| now_ms - (x % (120 * 86_400_000)) as i64),
                    )
                    .with_timezone("UTC"),
                ),
            ),
        ];
        for (k, f) in features.iter().enumerate() {
            let a: ArrayRef = if k % 2 == 0 {
                Arc::new(Float64Array::from_iter_values(
                    r.iter().map(|x| ((x >> k) % 1000) as f64 / 7.0),
                ))
            } else {
                Arc::new(Int64Array::from_iter_values(
                    r.iter().map(|x| ((x >> k) % 5000) as i64),
                ))
            };
            cols.push((f, a));
        }
        let batch = RecordBatch::try_from_iter(cols)?;
        if writer.is_none() {
            let props = WriterProperties::builder()
                .set_compression(Compression::SNAPPY)
                .build();
            let file = File::create(dir.join("events.parquet"))?;
            writer = Some(ArrowWriter::try_new(file, batch.schema(), Some(props))?);
        }
        if let Some(w) = writer.as_mut() {
            w.write(&batch)?;
        }
        start += n;
    }
    if let Some(w) = writer {
        w.close()?;
    }
    Ok(())
}
