//! The enforcer: a mapping checked against a policy and a table schema once,
//! then applied batch by batch.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, BooleanArray, BooleanBufferBuilder, DictionaryArray, Int32Array, ListArray,
    RecordBatch, StringArray, StructArray,
};
use arrow::buffer::OffsetBuffer;
use arrow::compute::{filter_record_batch, nullif};
use arrow::datatypes::{DataType, Field, Fields, Int32Type, Schema, SchemaRef};
use rpol_engine::model::ContextType;
use rpol_engine::{Compiled, FeatureId, FieldValue, RequestBuilder, Verdict};

use crate::cells::{Cells, Want, accepts};
use crate::error::{BatchError, Finding};
use crate::mapping::{Const, Entry, Mapping, Source, Target, finding};
use crate::options::Options;
use crate::stats::Stats;

/// The column with each row's mode.
pub const MODE_COLUMN: &str = "rpol_mode";
/// The column with each row's denied features and their codes.
pub const DENIED_COLUMN: &str = "rpol_denied";

/// The request field a source sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Set {
    Tenant,
    Surface,
    Purpose,
    UserId,
    AnonymousId,
    ConsentVersion,
    Consent(u32),
    Context(u32),
    Roles,
}

#[derive(Debug, Clone)]
enum From {
    Column(usize, Want),
    Const(Const),
    /// A constant surface or purpose, resolved to its index once.
    Id(u32),
}

/// A constant surface or purpose as its index (checked valid already), so
/// that rows do not look its name up.
fn resolved(m: &rpol_engine::model::PolicyModel, set: Set, c: &Const) -> Option<From> {
    let (names, Const::Str(name)) = (
        match set {
            Set::Surface => &m.surfaces,
            Set::Purpose => &m.purposes,
            _ => return None,
        },
        c,
    ) else {
        return None;
    };
    let i = names.iter().position(|n| n == name)?;
    u32::try_from(i).ok().map(From::Id)
}

#[derive(Debug, Clone)]
struct FieldSource {
    set: Set,
    from: From,
}

/// Where the kind of a row comes from, with its retention resolved when fixed.
#[derive(Debug, Clone)]
enum KindFrom {
    /// Retention in milliseconds (`None`: never expires).
    Fixed(Option<i64>),
    Column(usize),
}

/// Applies one policy to record batches of one schema.
pub struct Enforcer {
    policy: Arc<Compiled>,
    schema: SchemaRef,
    output: SchemaRef,
    sources: Vec<FieldSource>,
    /// (column, feature) per feature column, table order.
    features: Vec<(usize, FeatureId)>,
    event_time: Option<usize>,
    kind: Option<KindFrom>,
    options: Options,
    stats: Stats,
    mode_names: ArrayRef,
}

impl std::fmt::Debug for Enforcer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Enforcer")
            .field("schema", &self.schema)
            .field("options", &self.options)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

fn names_list<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let shown: Vec<String> = names.take(10).map(|n| format!("`{n}`")).collect();
    if shown.is_empty() {
        "none".to_string()
    } else {
        shown.join(", ")
    }
}

impl Enforcer {
    /// Checks `mapping` against the policy and the table `schema`: every
    /// problem is reported here, before any row is read.
    pub fn new(
        policy: Arc<Compiled>,
        mapping: &Mapping,
        schema: &Schema,
        options: Options,
    ) -> Result<Enforcer, BatchError> {
        let m = policy.model();
        let mut findings: Vec<Finding> = Vec::new();
        let mut sources = Vec::new();
        let mut event_time = None;
        let mut kind = None;
        let column = |e: &Entry, name: &str, want: Want, findings: &mut Vec<Finding>| {
            let Ok(i) = schema.index_of(name) else {
                let names = schema.fields().iter().map(|f| f.name().as_str());
                let help = rpol_diag::did_you_mean(name, names.clone())
                    .map(|s| format!("did you mean `{s}`?"))
                    .unwrap_or_else(|| format!("the table's columns are {}", names_list(names)));
                findings.push(finding(
                    "E0903",
                    format!(
                        "`{}` maps to column `{name}`, which the table does not have",
                        e.key
                    ),
                    Some(&help),
                    Some(e.value_place.clone()),
                ));
                return None;
            };
            let t = schema.field(i).data_type();
            if !accepts(want, t) {
                findings.push(finding(
                    "E0904",
                    format!(
                        "column `{name}` has type `{t}`, which cannot hold `{}`",
                        e.key
                    ),
                    Some(&format!("map `{}` to {}", e.key, want.describe())),
                    Some(e.value_place.clone()),
                ));
                return None;
            }
            Some(i)
        };
        for e in &mapping.entries {
            let (set, want) = match &e.target {
                Target::Tenant => (Set::Tenant, Want::Str),
                Target::Surface => (Set::Surface, Want::Str),
                Target::Purpose => {
                    if options.purpose.is_some() {
                        continue;
                    }
                    (Set::Purpose, Want::Str)
                }
                Target::UserId => (Set::UserId, Want::Str),
                Target::AnonymousId => (Set::AnonymousId, Want::Str),
                Target::ConsentVersion => (Set::ConsentVersion, Want::Str),
                Target::Roles => (Set::Roles, Want::StrList),
                Target::Consent(topic) => match m.consent_topics.iter().position(|t| t == topic) {
                    Some(t) => (Set::Consent(t as u32), Want::Str),
                    None => {
                        findings.push(finding(
                            "E0902",
                            format!("`{topic}` is not a consent topic of policy `{}`", m.name),
                            Some(&format!(
                                "declared topics are {}",
                                names_list(m.consent_topics.iter().map(String::as_str))
                            )),
                            Some(e.key_place.clone()),
                        ));
                        continue;
                    }
                },
                Target::Context(field) => {
                    match m.context.iter().enumerate().find(|(_, f)| &f.name == field) {
                        Some((fi, f)) => {
                            let want = match f.ty {
                                ContextType::String | ContextType::Enum(_) => Want::Str,
                                ContextType::Int => Want::Int,
                                ContextType::Bool => Want::Bool,
                                ContextType::Duration => Want::Duration,
                            };
                            (Set::Context(fi as u32), want)
                        }
                        None => {
                            findings.push(finding(
                                "E0902",
                                format!("`{field}` is not a context field of policy `{}`", m.name),
                                Some(&format!(
                                    "declared context fields are {}",
                                    names_list(m.context.iter().map(|f| f.name.as_str()))
                                )),
                                Some(e.key_place.clone()),
                            ));
                            continue;
                        }
                    }
                }
                Target::EventTime => {
                    match &e.source {
                        Source::Column(name) => {
                            event_time = column(e, name, Want::Timestamp, &mut findings);
                        }
                        Source::Const(_) => findings.push(finding(
                            "E0904",
                            "`event_time` must be a column, not a constant".to_string(),
                            Some("map `event_time` to a timestamp column"),
                            Some(e.value_place.clone()),
                        )),
                    }
                    continue;
                }
                Target::Kind => {
                    match &e.source {
                        Source::Column(name) => {
                            kind = column(e, name, Want::Str, &mut findings).map(KindFrom::Column);
                        }
                        Source::Const(Const::Str(k)) => match policy.retention(k) {
                            Ok(secs) => {
                                kind = Some(KindFrom::Fixed(Some(secs.saturating_mul(1_000))))
                            }
                            Err(_) => findings.push(finding(
                                "E0906",
                                format!("`{k}` is not a retention kind of policy `{}`", m.name),
                                Some(&format!(
                                    "declared kinds are {}",
                                    names_list(m.retention.iter().map(|(k, _)| k.as_str()))
                                )),
                                Some(e.value_place.clone()),
                            )),
                        },
                        Source::Const(_) => findings.push(finding(
                            "E0906",
                            "the constant `kind` must be a string".to_string(),
                            Some("write `kind: {value: KIND}`"),
                            Some(e.value_place.clone()),
                        )),
                    }
                    continue;
                }
            };
            let from = match &e.source {
                Source::Column(name) => match column(e, name, want, &mut findings) {
                    Some(i) => From::Column(i, want),
                    None => continue,
                },
                Source::Const(c) => {
                    // A constant goes through the same validation as a cell:
                    // one that no request could hold is refused here.
                    let mut b = policy.request_builder();
                    set_const(&mut b, set, c);
                    // The first error is the constant's own (missing
                    // required keys come last, and are not its fault).
                    if b.has_errors()
                        && let Err(errs) = b.finish()
                        && let Some(err) = errs.iter().next()
                    {
                        findings.push(finding(
                            "E0906",
                            format!("the constant of `{}` is invalid: {}", e.key, err.message),
                            None,
                            Some(e.value_place.clone()),
                        ));
                        continue;
                    }
                    resolved(m, set, c).unwrap_or_else(|| From::Const(c.clone()))
                }
            };
            sources.push(FieldSource { set, from });
        }
        if let Some(p) = &options.purpose {
            let c = Const::Str(p.clone());
            let mut b = policy.request_builder();
            set_const(&mut b, Set::Purpose, &c);
            if b.has_errors() {
                findings.push(finding(
                    "E0906",
                    format!("`{p}` is not a purpose of policy `{}`", m.name),
                    Some(&format!(
                        "declared purposes are {}",
                        names_list(m.purposes.iter().map(String::as_str))
                    )),
                    None,
                ));
            }
            let from = resolved(m, Set::Purpose, &c).unwrap_or(From::Const(c));
            sources.push(FieldSource {
                set: Set::Purpose,
                from,
            });
        }
        for (set, key) in [
            (Set::Tenant, "tenant"),
            (Set::Surface, "surface"),
            (Set::Purpose, "purpose"),
        ] {
            let mapped = sources.iter().any(|s| s.set == set)
                || mapping.entries.iter().any(|e| e.key == key);
            if !mapped {
                findings.push(finding(
                    "E0905",
                    format!("the mapping does not give `{key}`, which every request needs"),
                    Some(&format!(
                        "map `{key}` to a column, or give a constant as `{key}: {{value: …}}`"
                    )),
                    None,
                ));
            }
        }
        if options.drop.expired && (event_time.is_none() || kind.is_none()) {
            let have_keys = |k: &str| mapping.entries.iter().any(|e| e.key == k);
            if !have_keys("event_time") || !have_keys("kind") {
                findings.push(finding(
                    "E0905",
                    "dropping `expired` rows needs `event_time` and `kind` in the mapping"
                        .to_string(),
                    Some("map `event_time` to a timestamp column and `kind` to a retention kind"),
                    None,
                ));
            }
        }
        if !findings.is_empty() {
            return Err(BatchError { findings });
        }
        let features: Vec<(usize, FeatureId)> = schema
            .fields()
            .iter()
            .enumerate()
            .filter_map(|(i, f)| policy.feature_id(f.name()).map(|id| (i, id)))
            .collect();
        let mut fields: Vec<Field> = schema
            .fields()
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let f = f.as_ref().clone();
                if features.iter().any(|(c, _)| *c == i) {
                    f.with_nullable(true)
                } else {
                    f
                }
            })
            .collect();
        fields.push(Field::new(
            MODE_COLUMN,
            DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)),
            false,
        ));
        if options.denied_column {
            fields.push(Field::new(DENIED_COLUMN, denied_type(), false));
        }
        let output = Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()));
        let mode_names: ArrayRef = Arc::new(StringArray::from_iter_values(
            m.modes.iter().map(|x| x.name.as_str()),
        ));
        let stats = Stats {
            cells_nulled: features
                .iter()
                .map(|(c, _)| (schema.field(*c).name().clone(), 0))
                .collect(),
            ..Stats::default()
        };
        Ok(Enforcer {
            policy,
            schema: Arc::new(schema.clone()),
            output,
            sources,
            features,
            event_time,
            kind,
            options,
            stats,
            mode_names,
        })
    }

    /// The schema of every batch [`Enforcer::apply`] returns: the input's
    /// columns (feature columns nullable), then `rpol_mode`, then
    /// `rpol_denied` when asked for.
    pub fn output_schema(&self) -> SchemaRef {
        self.output.clone()
    }

    /// The feature columns, table order.
    pub fn feature_columns(&self) -> impl Iterator<Item = &str> {
        self.features
            .iter()
            .map(|(c, _)| self.schema.field(*c).name().as_str())
    }

    /// Counts over every batch applied so far.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Decides every row of `batch` (of the schema given to
    /// [`Enforcer::new`]), nulls denied feature cells and drops rows as the
    /// options say.
    pub fn apply(&mut self, batch: &RecordBatch) -> Result<RecordBatch, BatchError> {
        self.check_schema(batch)?;
        let n = batch.num_rows();
        let c = &*self.policy;
        let model = c.model();
        // Each mapped column read once per batch.
        let mut cells: Vec<Option<Cells>> = Vec::with_capacity(self.sources.len());
        for s in &self.sources {
            cells.push(match &s.from {
                From::Column(i, want) => Some(Cells::read(*want, batch.column(*i))?),
                From::Const(_) | From::Id(_) => None,
            });
        }
        let event_time = match self.event_time {
            Some(i) => Some(Cells::read(Want::Timestamp, batch.column(i))?),
            None => None,
        };
        let kind_cells = match &self.kind {
            Some(KindFrom::Column(i)) => Some(Cells::read(Want::Str, batch.column(*i))?),
            _ => None,
        };
        let nf = self.features.len();
        // Denied bits per feature column and the row's keep bit, built as
        // bitmaps: the null masks and the filter take them as they are.
        let mut denied: Vec<BooleanBufferBuilder> =
            (0..nf).map(|_| BooleanBufferBuilder::new(n)).collect();
        let mut keep = BooleanBufferBuilder::new(n);
        let mut modes: Vec<i32> = Vec::with_capacity(n);
        let denied_column = self.options.denied_column;
        let mut denied_offsets: Vec<i32> = Vec::new();
        let mut denied_names: Vec<&str> = Vec::new();
        let mut denied_codes: Vec<&'static str> = Vec::new();
        if denied_column {
            denied_offsets.reserve(n + 1);
            denied_offsets.push(0);
        }
        let feature_names: Vec<&str> = self
            .features
            .iter()
            .map(|(col, _)| self.schema.field(*col).name().as_str())
            .collect();
        let mut b = c.request_builder();
        let fallback_mode = model.fallback.mode;
        let drop = self.options.drop;
        let mut count = Counts::default();
        // Each feature column's word and bit in the allowed-feature bitmap.
        let bits: Vec<(usize, u32)> = self
            .features
            .iter()
            .map(|(_, f)| (f.index() as usize / 64, f.index() % 64))
            .collect();
        let mut allowed_words: Vec<u64> = Vec::new();
        for row in 0..n {
            b.reset();
            for (s, cell) in self.sources.iter().zip(&cells) {
                match (&s.from, cell) {
                    (From::Id(i), _) => set_id(&mut b, s.set, *i),
                    (From::Const(k), _) => set_const(&mut b, s.set, k),
                    (From::Column(_, _), Some(cell)) => set_cell(&mut b, c, s.set, cell, row),
                    (From::Column(_, _), None) => {}
                }
            }
            let valid = b.is_valid();
            if !valid {
                count.invalid += 1;
            }
            let retention = match (&self.kind, &kind_cells) {
                (Some(KindFrom::Fixed(r)), _) => *r,
                (Some(KindFrom::Column(_)), Some(kc)) => {
                    let r = if kc.is_null(row) || kc.dict_value_null(row) {
                        None
                    } else {
                        let k = kc.str(row);
                        model
                            .retention
                            .iter()
                            .find(|(name, _)| name == k)
                            .map(|(_, s)| s.saturating_mul(1_000))
                    };
                    if r.is_none() {
                        count.without_retention += 1;
                    }
                    r
                }
                _ => None,
            };
            let expired = match (retention, &event_time) {
                (Some(ms), Some(et)) => {
                    // An event of unknown time cannot be shown to be young enough.
                    et.is_null(row) || et.millis(row) < self.options.now_unix_ms.saturating_sub(ms)
                }
                _ => false,
            };
            // The first reason that applies, in the order `invalid`,
            // `expired`, `no_features`; a row dropped before its decision
            // is not decided at all.
            let early = if !valid && drop.invalid {
                Some(&mut count.dropped_invalid)
            } else if expired && drop.expired {
                Some(&mut count.dropped_expired)
            } else {
                None
            };
            if let Some(dropped) = early {
                *dropped += 1;
                keep.append(false);
                modes.push(fallback_mode as i32);
                for d in &mut denied {
                    d.append(true);
                }
                if denied_column {
                    denied_offsets.push(denied_len(&denied_names)?);
                }
                continue;
            }
            let mut any_allowed = false;
            if valid {
                let p = c.prepare(b.request());
                modes.push(p.mode as i32);
                c.allowed_feature_words(&p, &mut allowed_words);
                for ((((_, fid), d), name), &(w, bit)) in self
                    .features
                    .iter()
                    .zip(&mut denied)
                    .zip(&feature_names)
                    .zip(&bits)
                {
                    let allowed = allowed_words.get(w).is_some_and(|w| w >> bit & 1 == 1);
                    any_allowed |= allowed;
                    d.append(!allowed);
                    if denied_column && !allowed {
                        denied_names.push(name);
                        denied_codes.push(code_of(c.check_feature(&p, *fid)));
                    }
                }
            } else {
                modes.push(fallback_mode as i32);
                // An invalid row never widens: every feature cell is null.
                for (d, name) in denied.iter_mut().zip(&feature_names) {
                    d.append(true);
                    if denied_column {
                        denied_names.push(name);
                        denied_codes.push("invalid_request");
                    }
                }
            }
            if denied_column {
                denied_offsets.push(denied_len(&denied_names)?);
            }
            if drop.no_features && nf > 0 && !any_allowed {
                count.dropped_no_features += 1;
                keep.append(false);
            } else {
                keep.append(true);
            }
        }
        drop_builder(b);
        let keep = keep.finish();
        // Feature columns: null where denied (validity bitmaps, column by column).
        let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
        for (((col, _), mut d), nulled) in self
            .features
            .iter()
            .zip(denied)
            .zip(self.stats.cells_nulled.iter_mut())
        {
            let Some(slot) = columns.get_mut(*col) else {
                continue;
            };
            let mask = d.finish();
            if mask.count_set_bits() == 0 {
                continue;
            }
            // Cells of kept rows that had a value and lost it.
            let lost = &keep & &mask;
            nulled.1 += match slot.logical_nulls() {
                Some(valid) => (&lost & valid.inner()).count_set_bits(),
                None => lost.count_set_bits(),
            } as u64;
            *slot = nullif(slot.as_ref(), &BooleanArray::new(mask, None))?;
        }
        let keys = Int32Array::from(modes);
        let mode_col = DictionaryArray::<Int32Type>::try_new(keys, self.mode_names.clone())?;
        columns.push(Arc::new(mode_col));
        if self.options.denied_column {
            columns.push(Arc::new(denied_array(
                denied_offsets,
                denied_names,
                denied_codes,
            )?));
        }
        let out = RecordBatch::try_new(self.output.clone(), columns)?;
        let kept = keep.count_set_bits();
        let out = if kept == n {
            out
        } else {
            filter_record_batch(&out, &BooleanArray::new(keep, None))?
        };
        let st = &mut self.stats;
        st.rows_in += n as u64;
        st.rows_out += kept as u64;
        st.invalid_rows += count.invalid;
        st.dropped_invalid += count.dropped_invalid;
        st.dropped_expired += count.dropped_expired;
        st.dropped_no_features += count.dropped_no_features;
        st.rows_without_retention += count.without_retention;
        Ok(out)
    }

    fn check_schema(&self, batch: &RecordBatch) -> Result<(), BatchError> {
        let got = batch.schema();
        let same = got.fields().len() == self.schema.fields().len()
            && got
                .fields()
                .iter()
                .zip(self.schema.fields())
                .all(|(a, b)| a.name() == b.name() && a.data_type() == b.data_type());
        if same {
            Ok(())
        } else {
            Err(BatchError::one(
                "E0907",
                "a batch's columns differ from the schema the mapping was checked against"
                    .to_string(),
                Some("make one enforcer per table schema"),
            ))
        }
    }
}

/// Counts of one batch, added to the [`Stats`] at its end.
#[derive(Default)]
struct Counts {
    invalid: u64,
    without_retention: u64,
    dropped_invalid: u64,
    dropped_expired: u64,
    dropped_no_features: u64,
}

/// The next offset of `rpol_denied`: its entries so far.
fn denied_len(names: &[&str]) -> Result<i32, BatchError> {
    i32::try_from(names.len()).map_err(|_| {
        BatchError::one(
            "E0910",
            "a batch has more denied cells than `rpol_denied` can list (2^31)".to_string(),
            Some("give smaller batches"),
        )
    })
}

/// Ends the builder's borrow of the policy before the stats are updated.
fn drop_builder(_: RequestBuilder<'_>) {}

fn code_of(v: Verdict) -> &'static str {
    v.code().map_or("allowed", |c| c.as_str())
}

fn denied_item() -> Arc<Field> {
    Arc::new(Field::new("item", DataType::Struct(denied_fields()), false))
}

fn denied_type() -> DataType {
    DataType::List(denied_item())
}

fn denied_fields() -> Fields {
    Fields::from(vec![
        Field::new("feature", DataType::Utf8, false),
        Field::new("code", DataType::Utf8, false),
    ])
}

fn denied_array(
    offsets: Vec<i32>,
    names: Vec<&str>,
    codes: Vec<&'static str>,
) -> Result<ListArray, arrow::error::ArrowError> {
    let items = StructArray::try_new(
        denied_fields(),
        vec![
            Arc::new(StringArray::from(names)) as ArrayRef,
            Arc::new(StringArray::from(codes)) as ArrayRef,
        ],
        None,
    )?;
    ListArray::try_new(
        denied_item(),
        OffsetBuffer::new(offsets.into()),
        Arc::new(items),
        None,
    )
}

/// Sets a constant surface or purpose by its index.
#[inline]
fn set_id(b: &mut RequestBuilder<'_>, set: Set, i: u32) {
    match set {
        Set::Surface => b.surface_index(i),
        Set::Purpose => b.purpose_index(i),
        _ => {}
    }
}

/// Sets a constant (checked against the policy when the mapping was).
fn set_const(b: &mut RequestBuilder<'_>, set: Set, c: &Const) {
    match (set, c) {
        (Set::Context(fi), Const::Str(s)) => b.context(fi, FieldValue::Str(s)),
        (Set::Context(fi), Const::Int(i)) => b.context(fi, FieldValue::Int(*i)),
        (Set::Context(fi), Const::Bool(v)) => b.context(fi, FieldValue::Bool(*v)),
        (Set::Roles, Const::List(items)) => {
            for (i, r) in items.iter().enumerate() {
                b.role(i, Some(r));
            }
        }
        (set, Const::Str(s)) if set != Set::Roles => set_str(b, set, s),
        (_, other) => b.error(
            "$",
            format!("a constant {} cannot be given here", const_kind(other)),
        ),
    }
}

fn const_kind(c: &Const) -> &'static str {
    match c {
        Const::Str(_) => "string",
        Const::Int(_) => "integer",
        Const::Bool(_) => "boolean",
        Const::List(_) => "list",
    }
}

#[inline]
fn set_str(b: &mut RequestBuilder<'_>, set: Set, s: &str) {
    match set {
        Set::Tenant => b.tenant(s),
        Set::Surface => b.surface(s),
        Set::Purpose => b.purpose(s),
        Set::UserId => b.user_id(s),
        Set::AnonymousId => b.anonymous_id(s),
        Set::ConsentVersion => b.consent_version(s),
        Set::Consent(t) => b.consent(t, s),
        Set::Context(fi) => b.context(fi, FieldValue::Str(s)),
        Set::Roles => {}
    }
}

/// Sets the field from row `row` of its column; a null cell is an absent field.
#[inline]
fn set_cell(b: &mut RequestBuilder<'_>, c: &Compiled, set: Set, cell: &Cells, row: usize) {
    if cell.is_null(row) || cell.dict_value_null(row) {
        return;
    }
    match cell {
        Cells::Str(_) | Cells::Dict { .. } => set_str(b, set, cell.str(row)),
        Cells::I64(_) | Cells::U64(_) => {
            if let Set::Context(fi) = set {
                b.context(fi, FieldValue::Int(cell.int(row)));
            }
        }
        Cells::Bool(_) => {
            if let Set::Context(fi) = set {
                b.context(fi, FieldValue::Bool(cell.bool(row)));
            }
        }
        Cells::Scaled { .. } => {
            if let Set::Context(fi) = set {
                match cell.seconds(row) {
                    Ok(secs) => b.context(fi, FieldValue::Seconds(secs)),
                    Err(raw) => {
                        let name = c
                            .model()
                            .context
                            .get(fi as usize)
                            .map_or("?", |f| f.name.as_str());
                        b.error(
                            format!("$.context.{name}"),
                            format!("`context.{name}` must be whole seconds, found {raw} sub-second units"),
                        );
                    }
                }
            }
        }
        Cells::List(_) => {
            for (i, r) in cell.list(row).enumerate() {
                b.role(i, r);
            }
        }
    }
}
