//! Differential test: on generated tables over both bundled policies, every
//! output cell, mode and dropped row equals what `Compiled::decide_json`
//! says for the row's equivalent JSON request, built here independently of
//! the batch code (a null cell is a missing key).

use std::path::Path;
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, DictionaryArray, DurationSecondArray, Int64Array,
    ListBuilder, RecordBatch, StringArray, StringBuilder, TimestampMillisecondArray,
};
use arrow::datatypes::{Int32Type, Schema};
use rpol_batch::{DropWhen, Enforcer, Mapping, Options};
use rpol_engine::Compiled;
use rpol_engine::model::ContextType;
use serde_json::{Map, Value, json};

const NOW_MS: i64 = 1_764_547_200_000; // 2025-12-01T00:00:00Z

fn load(name: &str) -> Arc<Compiled> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../policies")
        .join(name);
    let (c, _) = rpol_check::policy_load::load_policy(&path, None).expect("bundled policy loads");
    Arc::new(c)
}

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
    /// `None` one time in `n`.
    fn null_one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }
}

/// One generated row: cells as JSON-able values (None = null cell).
struct Table {
    batch: RecordBatch,
    mapping: String,
    /// Per row, the equivalent JSON request.
    requests: Vec<String>,
    /// Per row, kind and event time (ms) for the expected retention.
    kinds: Vec<Option<String>>,
    times: Vec<Option<i64>>,
    features: Vec<String>,
}

/// The columns, mapping text and JSON requests being generated.
struct Gen {
    rows: usize,
    cols: Vec<(String, ArrayRef)>,
    mapping: String,
    reqs: Vec<Map<String, Value>>,
}

impl Gen {
    /// Sets `path` (`["consent", "training"]`) in row `r`'s JSON request.
    fn set(&mut self, r: usize, path: &[&str], v: Value) {
        let mut obj = &mut self.reqs[r];
        for p in &path[..path.len() - 1] {
            obj = obj
                .entry(p.to_string())
                .or_insert_with(|| json!({}))
                .as_object_mut()
                .unwrap();
        }
        obj.insert(path[path.len() - 1].to_string(), v);
    }

    fn column(&mut self, key: &str, arr: ArrayRef) {
        let name = format!("col_{}", key.replace('.', "_"));
        self.mapping.push_str(&format!("{key}: {name}\n"));
        self.cols.push((name, arr));
    }

    /// A string column of `values` (declared and undeclared ones) and nulls.
    fn strings(&mut self, rng: &mut Rng, key: &str, path: &[&str], values: &[&str], dict: bool) {
        let cells: Vec<Option<&str>> = (0..self.rows)
            .map(|_| (!rng.null_one_in(12)).then(|| rng.pick(values)))
            .collect();
        for (r, v) in cells.iter().enumerate() {
            if let Some(v) = v {
                self.set(r, path, json!(v));
            }
        }
        let arr: ArrayRef = if dict {
            Arc::new(cells.into_iter().collect::<DictionaryArray<Int32Type>>())
        } else {
            Arc::new(StringArray::from(cells))
        };
        self.column(key, arr);
    }

    /// A column of `cells`, each also set in the JSON request as `json(cell)`.
    fn typed<T: Copy>(
        &mut self,
        key: &str,
        path: &[&str],
        cells: &[Option<T>],
        json: impl Fn(T) -> Value,
        arr: ArrayRef,
    ) {
        for (r, v) in cells.iter().enumerate() {
            if let Some(v) = v {
                self.set(r, path, json(*v));
            }
        }
        self.column(key, arr);
    }
}

fn generate(c: &Compiled, rows: usize, seed: u64) -> Table {
    let m = c.model();
    let mut rng = Rng(seed);
    let mut g = Gen {
        rows,
        cols: Vec::new(),
        mapping: String::new(),
        reqs: vec![Map::new(); rows],
    };
    g.strings(&mut rng, "tenant", &["tenant"], &["acme", "globex"], false);
    let mut surfaces: Vec<&str> = m.surfaces.iter().map(String::as_str).collect();
    surfaces.push("nowhere");
    g.strings(&mut rng, "surface", &["surface"], &surfaces, true);
    let mut purposes: Vec<&str> = m.purposes.iter().map(String::as_str).collect();
    purposes.push("curiosity");
    g.strings(&mut rng, "purpose", &["purpose"], &purposes, false);
    g.strings(
        &mut rng,
        "subject.user_id",
        &["subject", "user_id"],
        &["u1", "u2", "u3"],
        false,
    );
    g.strings(
        &mut rng,
        "subject.anonymous_id",
        &["subject", "anonymous_id"],
        &["a1", "a2"],
        true,
    );
    g.strings(
        &mut rng,
        "consent_version",
        &["consent_version"],
        &["c-1", "c-2"],
        false,
    );
    for topic in &m.consent_topics {
        g.strings(
            &mut rng,
            &format!("consent.{topic}"),
            &["consent", topic],
            &["granted", "granted", "denied", "unknown", "maybe"],
            true,
        );
    }
    for f in &m.context {
        let key = format!("context.{}", f.name);
        let path = ["context", f.name.as_str()];
        match &f.ty {
            ContextType::String => g.strings(&mut rng, &key, &path, &["ID", "EU", "US", ""], false),
            ContextType::Enum(vs) => {
                let mut values: Vec<&str> = vs.iter().map(String::as_str).collect();
                values.push("toaster");
                g.strings(&mut rng, &key, &path, &values, true);
            }
            ContextType::Bool => {
                let cells: Vec<Option<bool>> = (0..rows)
                    .map(|_| (!rng.null_one_in(10)).then(|| rng.below(2) == 0))
                    .collect();
                let arr = Arc::new(BooleanArray::from(cells.clone()));
                g.typed(&key, &path, &cells, |v| json!(v), arr);
            }
            ContextType::Int => {
                let cells: Vec<Option<i64>> = (0..rows)
                    .map(|_| (!rng.null_one_in(10)).then(|| rng.below(400) as i64 - 20))
                    .collect();
                let arr = Arc::new(Int64Array::from(cells.clone()));
                g.typed(&key, &path, &cells, |v| json!(v), arr);
            }
            ContextType::Duration => {
                // Negative seconds have no JSON duration: the text "-5s" is
                // refused by JSON parsing, as the cell must be.
                let cells: Vec<Option<i64>> = (0..rows)
                    .map(|_| (!rng.null_one_in(10)).then(|| rng.below(200_000) as i64 - 100))
                    .collect();
                let arr = Arc::new(DurationSecondArray::from(cells.clone()));
                g.typed(&key, &path, &cells, |v| json!(format!("{v}s")), arr);
            }
        }
    }
    // Roles: lists of declared roles, sometimes an undeclared one or a null item.
    let mut roles: Vec<&str> = m.roles.iter().map(String::as_str).collect();
    roles.push("intern");
    let mut lb = ListBuilder::new(StringBuilder::new());
    for r in 0..rows {
        if rng.null_one_in(8) {
            lb.append(false);
            continue;
        }
        let mut items = Vec::new();
        for _ in 0..rng.below(3) {
            if rng.null_one_in(30) {
                lb.values().append_null();
                items.push(Value::Null);
            } else {
                let role = rng.pick(&roles);
                lb.values().append_value(role);
                items.push(json!(role));
            }
        }
        lb.append(true);
        g.set(r, &["roles"], Value::Array(items));
    }
    g.column("roles", Arc::new(lb.finish()));
    // Retention: kinds of the policy, an undeclared one, nulls.
    let mut kinds_pool: Vec<&str> = m.retention.iter().map(|(k, _)| k.as_str()).collect();
    kinds_pool.push("mystery");
    let kinds: Vec<Option<String>> = (0..rows)
        .map(|_| (!rng.null_one_in(15)).then(|| rng.pick(&kinds_pool).to_string()))
        .collect();
    let times: Vec<Option<i64>> = (0..rows)
        .map(|_| (!rng.null_one_in(20)).then(|| NOW_MS - (rng.below(400 * 86_400) as i64) * 1_000))
        .collect();
    g.column("kind", Arc::new(StringArray::from(kinds.clone())));
    g.column(
        "event_time",
        Arc::new(TimestampMillisecondArray::from(times.clone()).with_timezone("UTC")),
    );
    // Feature columns (every registry feature) and one pass-through column.
    let features: Vec<String> = m.features.iter().map(|f| f.name.clone()).collect();
    for (k, f) in features.iter().enumerate() {
        let cells: Vec<Option<i64>> = (0..rows)
            .map(|r| (!rng.null_one_in(9)).then_some((r * 100 + k) as i64))
            .collect();
        g.cols.push((f.clone(), Arc::new(Int64Array::from(cells))));
    }
    g.cols.push((
        "item_id".into(),
        Arc::new(Int64Array::from_iter_values(0..rows as i64)),
    ));
    let requests = g
        .reqs
        .into_iter()
        .map(|mut r| {
            r.insert("features".into(), json!(features));
            Value::Object(r).to_string()
        })
        .collect();
    Table {
        batch: RecordBatch::try_from_iter(g.cols).unwrap(),
        mapping: g.mapping,
        requests,
        kinds,
        times,
        features,
    }
}

/// What the engine says for row `r`: (mode name, allowed per feature,
/// deny code per feature, valid).
struct Expected {
    mode: String,
    allowed: Vec<bool>,
    codes: Vec<Option<String>>,
    valid: bool,
}

fn expected(c: &Compiled, t: &Table, r: usize) -> Expected {
    let m = c.model();
    match c.decide_json(&t.requests[r], &[]) {
        Ok(d) => {
            let verdicts: Vec<_> = t
                .features
                .iter()
                .map(|f| {
                    let id = c.feature_id(f).unwrap().index();
                    d.feature_verdict(id)
                        .expect("decision covers requested features")
                })
                .collect();
            Expected {
                mode: m.modes[d.mode as usize].name.clone(),
                allowed: verdicts.iter().map(|v| v.is_allowed()).collect(),
                codes: verdicts
                    .iter()
                    .map(|v| v.code().map(|c| c.as_str().to_string()))
                    .collect(),
                valid: true,
            }
        }
        Err((_, fallback)) => Expected {
            mode: m.modes[fallback.mode as usize].name.clone(),
            allowed: vec![false; t.features.len()],
            codes: vec![Some("invalid_request".into()); t.features.len()],
            valid: false,
        },
    }
}

fn expired(c: &Compiled, t: &Table, r: usize) -> bool {
    let Some(kind) = &t.kinds[r] else {
        return false;
    };
    let Ok(secs) = c.retention(kind) else {
        return false;
    };
    match t.times[r] {
        None => true,
        Some(ms) => ms < NOW_MS - secs * 1_000,
    }
}

fn mode_at(batch: &RecordBatch, r: usize) -> String {
    let col = batch.column_by_name("rpol_mode").unwrap();
    let d = col.as_dictionary::<Int32Type>();
    let values = d.values().as_string::<i32>();
    values.value(d.keys().value(r) as usize).to_string()
}

fn check_policy(name: &str, seed: u64) {
    let c = load(name);
    let t = generate(&c, 3_000, seed);
    let mapping = Mapping::from_yaml(&t.mapping, "map.yaml").unwrap();
    let schema: Schema = t.batch.schema().as_ref().clone();
    let exp: Vec<Expected> = (0..t.batch.num_rows())
        .map(|r| expected(&c, &t, r))
        .collect();
    assert!(exp.iter().any(|e| e.valid) && exp.iter().any(|e| !e.valid));
    assert!(exp.iter().any(|e| e.allowed.iter().any(|a| *a)));

    // 1. Nothing dropped, with the denied column: every cell, mode and code.
    let opts = Options {
        now_unix_ms: NOW_MS,
        denied_column: true,
        ..Options::default()
    };
    let mut e = Enforcer::new(c.clone(), &mapping, &schema, opts).unwrap();
    let out = e.apply(&t.batch).unwrap();
    assert_eq!(out.num_rows(), t.batch.num_rows());
    let denied = out.column_by_name("rpol_denied").unwrap().as_list::<i32>();
    for (r, x) in exp.iter().enumerate() {
        assert_eq!(
            mode_at(&out, r),
            x.mode,
            "mode of row {r}: {}",
            t.requests[r]
        );
        let items = denied.value(r);
        let items = items.as_struct();
        let names = items.column(0).as_string::<i32>();
        let codes = items.column(1).as_string::<i32>();
        let mut got_codes = names.iter().zip(codes.iter());
        for (k, f) in t.features.iter().enumerate() {
            let input = t
                .batch
                .column_by_name(f)
                .unwrap()
                .as_primitive::<arrow::datatypes::Int64Type>();
            let cell = out
                .column_by_name(f)
                .unwrap()
                .as_primitive::<arrow::datatypes::Int64Type>();
            if x.allowed[k] {
                assert_eq!(cell.is_valid(r), input.is_valid(r), "row {r} feature {f}");
                if input.is_valid(r) {
                    assert_eq!(cell.value(r), input.value(r));
                }
            } else {
                assert!(
                    cell.is_null(r),
                    "row {r} feature {f} must be null: {}",
                    t.requests[r]
                );
                let (n, code) = got_codes.next().expect("a denied item per denied feature");
                assert_eq!((n, code), (Some(f.as_str()), x.codes[k].as_deref()));
            }
        }
        assert!(got_codes.next().is_none(), "row {r}: extra denied items");
    }
    assert_eq!(
        out.column_by_name("item_id").unwrap().as_ref(),
        t.batch.column_by_name("item_id").unwrap().as_ref()
    );
    assert_eq!(
        e.stats().invalid_rows,
        exp.iter().filter(|x| !x.valid).count() as u64
    );

    // 2. Every drop reason, in batches of uneven sizes: exactly the rows
    //    the engine says survive, in order.
    let opts = Options {
        now_unix_ms: NOW_MS,
        drop: DropWhen::parse("invalid,no_features,expired").unwrap(),
        ..Options::default()
    };
    let mut e = Enforcer::new(c.clone(), &mapping, &schema, opts).unwrap();
    let mut kept_ids = Vec::new();
    let mut off = 0;
    for len in [1, 999, 0, 2_000] {
        let out = e.apply(&t.batch.slice(off, len)).unwrap();
        let ids = out
            .column_by_name("item_id")
            .unwrap()
            .as_primitive::<arrow::datatypes::Int64Type>();
        kept_ids.extend(ids.values().iter().copied());
        off += len;
    }
    let want: Vec<i64> = (0..t.batch.num_rows())
        .filter(|&r| exp[r].valid && !expired(&c, &t, r) && exp[r].allowed.iter().any(|a| *a))
        .map(|r| r as i64)
        .collect();
    assert!(!want.is_empty() && want.len() < t.batch.num_rows());
    assert_eq!(kept_ids, want);
    let s = e.stats();
    assert_eq!(s.rows_in, t.batch.num_rows() as u64);
    assert_eq!(s.rows_out, want.len() as u64);
    assert_eq!(s.rows_in - s.rows_out, s.dropped());
    assert!(s.dropped_invalid > 0 && s.dropped_expired > 0);
}

#[test]
fn home_cells_and_drops_equal_the_engine() {
    check_policy("home", 0x9e37_79b9_7f4a_7c15);
}

#[test]
fn enterprise_cells_and_drops_equal_the_engine() {
    check_policy("enterprise", 0x2545_f491_4f6c_dd1d);
}
