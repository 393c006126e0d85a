//! `Enforcer::apply` on a batch of 65,536 event rows over the bundled home
//! policy (its eight feature columns), with and without dropping rows.

use std::path::Path;
use std::sync::Arc;

use arrow::array::{
    ArrayRef, DictionaryArray, Int64Array, RecordBatch, StringArray, TimestampMillisecondArray,
};
use arrow::datatypes::Int32Type;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rpol_batch::{DropWhen, Enforcer, Mapping, Options};

const ROWS: usize = 65_536;
const NOW_MS: i64 = 1_764_547_200_000;

fn batch() -> RecordBatch {
    let mut s: u64 = 0x2545_f491_4f6c_dd1d;
    let r: Vec<u64> = (0..ROWS)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s
        })
        .collect();
    let pick = |k: usize, vals: &'static [&'static str]| -> DictionaryArray<Int32Type> {
        r.iter()
            .map(|x| {
                vals.get((x >> (k * 5)) as usize % (vals.len() + 1))
                    .copied()
            })
            .collect()
    };
    let mut cols: Vec<(String, ArrayRef)> = vec![
        ("tenant".into(), Arc::new(pick(1, &["acme", "globex"]))),
        (
            "user_id".into(),
            Arc::new(StringArray::from_iter(
                r.iter()
                    .map(|x| (x % 10 != 0).then(|| format!("u{}", x % 1000))),
            )),
        ),
        (
            "consent_p".into(),
            Arc::new(pick(2, &["granted", "denied", "unknown"])),
        ),
        (
            "consent_t".into(),
            Arc::new(pick(3, &["granted", "denied", "unknown"])),
        ),
        (
            "region".into(),
            Arc::new(StringArray::from_iter(
                r.iter()
                    .map(|x| Some(["ID", "EU", "US"][(x >> 20) as usize % 3])),
            )),
        ),
        (
            "device".into(),
            Arc::new(pick(5, &["mobile", "desktop", "tv"])),
        ),
        (
            "ts".into(),
            Arc::new(TimestampMillisecondArray::from_iter_values(
                r.iter().map(|x| NOW_MS - (x % (120 * 86_400_000)) as i64),
            )),
        ),
    ];
    for f in [
        "user_category_affinity_30d",
        "user_embedding",
        "recent_click_count",
        "inferred_health_interest",
        "item_quality_score",
        "region_popularity",
        "context_local_hour",
        "device_type",
    ] {
        cols.push((
            f.into(),
            Arc::new(Int64Array::from_iter_values(
                r.iter().map(|x| (x % 977) as i64),
            )),
        ));
    }
    RecordBatch::try_from_iter(cols).unwrap()
}

fn bench(c: &mut Criterion) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies/home");
    let policy = Arc::new(rpol_check::policy_load::load_policy(&path, None).unwrap().0);
    let mapping = Mapping::from_yaml(
        "tenant: tenant\nsurface: {value: home}\npurpose: {value: training}\nsubject.user_id: user_id\nconsent.personalization: consent_p\nconsent.training: consent_t\ncontext.region: region\ncontext.device: device\nevent_time: ts\nkind: {value: raw_behavior_events}\n",
        "bench.yaml",
    )
    .unwrap();
    let b = batch();
    let mut g = c.benchmark_group("apply");
    g.throughput(Throughput::Elements(ROWS as u64));
    for (name, drop) in [
        ("keep_all", ""),
        ("drop_all_reasons", "invalid,no_features,expired"),
    ] {
        let opts = Options {
            drop: DropWhen::parse(drop).unwrap(),
            now_unix_ms: NOW_MS,
            ..Options::default()
        };
        let mut e = Enforcer::new(policy.clone(), &mapping, &b.schema(), opts).unwrap();
        g.bench_function(name, |bench| bench.iter(|| e.apply(&b).unwrap()));
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
