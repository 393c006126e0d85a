//! The cells of one mapped column in one batch, read as the request field
//! needs them. Each column is turned once per batch into one of a few
//! canonical shapes (no per-row allocation, no per-row type dispatch
//! beyond one match).

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Int64Array, ListArray, StringArray, UInt64Array,
};
use arrow::buffer::{NullBuffer, ScalarBuffer};
use arrow::compute::cast;
use arrow::datatypes::{
    DataType, DurationMicrosecondType, DurationMillisecondType, DurationNanosecondType,
    DurationSecondType, TimeUnit, TimestampMicrosecondType, TimestampMillisecondType,
    TimestampNanosecondType, TimestampSecondType,
};
use arrow::error::ArrowError;

/// What a column must hold for the field it is mapped to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Want {
    Str,
    Int,
    Bool,
    /// A duration field: an Arrow duration, or an integer of seconds.
    Duration,
    /// `roles`: a list of strings.
    StrList,
    Timestamp,
}

impl Want {
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Want::Str => "a string or dictionary-of-strings column",
            Want::Int => "an integer column",
            Want::Bool => "a boolean column",
            Want::Duration => "a duration column or an integer column of seconds",
            Want::StrList => "a list-of-strings column",
            Want::Timestamp => "a timestamp column",
        }
    }
}

fn is_str(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
}

/// Whether a column of type `t` can hold the field.
pub(crate) fn accepts(want: Want, t: &DataType) -> bool {
    match want {
        Want::Str => {
            is_str(t)
                || matches!(t, DataType::Dictionary(k, v) if k.is_dictionary_key_type() && is_str(v))
        }
        Want::Int => t.is_integer(),
        Want::Bool => *t == DataType::Boolean,
        // Duration text such as `"90d"` too, as in a JSON request.
        Want::Duration => {
            t.is_integer() || matches!(t, DataType::Duration(_)) || accepts(Want::Str, t)
        }
        Want::StrList => match t {
            DataType::List(f) | DataType::LargeList(f) => is_str(f.data_type()),
            _ => false,
        },
        Want::Timestamp => matches!(t, DataType::Timestamp(_, _)),
    }
}

/// A column's cells in canonical form.
pub(crate) enum Cells {
    Str(StringArray),
    Dict {
        keys: Vec<usize>,
        nulls: Option<NullBuffer>,
        values: StringArray,
    },
    I64(Int64Array),
    U64(UInt64Array),
    Bool(BooleanArray),
    /// Raw integers and the number of units per second (durations, or
    /// timestamps read as milliseconds with `per_ms`).
    Scaled {
        values: ScalarBuffer<i64>,
        nulls: Option<NullBuffer>,
        per_unit: i64,
    },
    List(ListArray),
}

/// The result of a cast as its concrete type.
fn owned<T: Array + Clone + 'static>(a: &dyn Array) -> Result<T, ArrowError> {
    a.as_any()
        .downcast_ref::<T>()
        .cloned()
        .ok_or_else(|| ArrowError::CastError(format!("cast gave {}", a.data_type())))
}

impl Cells {
    /// Reads `col` for `want` (its type was checked with [`accepts`]).
    pub(crate) fn read(want: Want, col: &ArrayRef) -> Result<Cells, ArrowError> {
        let t = col.data_type();
        if want == Want::Duration && accepts(Want::Str, t) {
            return Cells::read(Want::Str, col);
        }
        Ok(match want {
            Want::Str => match t {
                DataType::Dictionary(_, _) => {
                    let d = col.as_any_dictionary();
                    let values = cast(d.values(), &DataType::Utf8)?;
                    Cells::Dict {
                        keys: d.normalized_keys(),
                        nulls: d.logical_nulls(),
                        values: owned(&*values)?,
                    }
                }
                DataType::Utf8 => Cells::Str(col.as_string::<i32>().clone()),
                _ => Cells::Str(owned(&*cast(col, &DataType::Utf8)?)?),
            },
            Want::Int | Want::Duration if t.is_integer() => {
                let ints = if *t == DataType::UInt64 {
                    Cells::U64(col.as_primitive().clone())
                } else {
                    Cells::I64(owned(&*cast(col, &DataType::Int64)?)?)
                };
                if want == Want::Duration {
                    // Integer seconds.
                    return Ok(match ints {
                        Cells::I64(a) => Cells::Scaled {
                            nulls: a.nulls().cloned(),
                            values: a.values().clone(),
                            per_unit: 1,
                        },
                        // Seconds beyond i64 have no JSON duration either.
                        Cells::U64(a) => {
                            let values: Vec<i64> = a
                                .values()
                                .iter()
                                .map(|&v| i64::try_from(v).unwrap_or(-1))
                                .collect();
                            Cells::Scaled {
                                nulls: a.nulls().cloned(),
                                values: values.into(),
                                per_unit: 1,
                            }
                        }
                        _ => unreachable!("integers were read as integers"),
                    });
                }
                ints
            }
            Want::Bool => Cells::Bool(col.as_boolean().clone()),
            Want::Duration => {
                let (values, per_unit) = match t {
                    DataType::Duration(TimeUnit::Second) => {
                        (col.as_primitive::<DurationSecondType>().values().clone(), 1)
                    }
                    DataType::Duration(TimeUnit::Millisecond) => (
                        col.as_primitive::<DurationMillisecondType>()
                            .values()
                            .clone(),
                        1_000,
                    ),
                    DataType::Duration(TimeUnit::Microsecond) => (
                        col.as_primitive::<DurationMicrosecondType>()
                            .values()
                            .clone(),
                        1_000_000,
                    ),
                    _ => (
                        col.as_primitive::<DurationNanosecondType>()
                            .values()
                            .clone(),
                        1_000_000_000,
                    ),
                };
                Cells::Scaled {
                    values,
                    nulls: col.logical_nulls(),
                    per_unit,
                }
            }
            Want::Timestamp => {
                // `per_unit` here is units per millisecond (seconds: 0 = ×1000).
                let (values, per_unit) = match t {
                    DataType::Timestamp(TimeUnit::Second, _) => (
                        col.as_primitive::<TimestampSecondType>().values().clone(),
                        0,
                    ),
                    DataType::Timestamp(TimeUnit::Millisecond, _) => (
                        col.as_primitive::<TimestampMillisecondType>()
                            .values()
                            .clone(),
                        1,
                    ),
                    DataType::Timestamp(TimeUnit::Microsecond, _) => (
                        col.as_primitive::<TimestampMicrosecondType>()
                            .values()
                            .clone(),
                        1_000,
                    ),
                    _ => (
                        col.as_primitive::<TimestampNanosecondType>()
                            .values()
                            .clone(),
                        1_000_000,
                    ),
                };
                Cells::Scaled {
                    values,
                    nulls: col.logical_nulls(),
                    per_unit,
                }
            }
            Want::StrList => {
                let target = DataType::List(std::sync::Arc::new(arrow::datatypes::Field::new(
                    "item",
                    DataType::Utf8,
                    true,
                )));
                Cells::List(owned(&*cast(col, &target)?)?)
            }
            Want::Int => unreachable!("an integer column was checked"),
        })
    }

    pub(crate) fn is_null(&self, i: usize) -> bool {
        match self {
            Cells::Str(a) => a.is_null(i),
            Cells::Dict { nulls, .. } | Cells::Scaled { nulls, .. } => {
                nulls.as_ref().is_some_and(|n| n.is_null(i))
            }
            Cells::I64(a) => a.is_null(i),
            Cells::U64(a) => a.is_null(i),
            Cells::Bool(a) => a.is_null(i),
            Cells::List(a) => a.is_null(i),
        }
    }

    /// The string at row `i` (not null).
    #[inline]
    pub(crate) fn str(&self, i: usize) -> &str {
        match self {
            Cells::Str(a) => a.value(i),
            Cells::Dict { keys, values, .. } => match keys.get(i) {
                Some(&k) if values.is_valid(k) => values.value(k),
                _ => "",
            },
            _ => "",
        }
    }

    /// Whether the dictionary value behind row `i` is itself null.
    pub(crate) fn dict_value_null(&self, i: usize) -> bool {
        matches!(self, Cells::Dict { keys, values, .. } if keys.get(i).is_none_or(|&k| values.is_null(k)))
    }

    #[inline]
    pub(crate) fn int(&self, i: usize) -> i128 {
        match self {
            Cells::I64(a) => a.value(i).into(),
            Cells::U64(a) => a.value(i).into(),
            _ => 0,
        }
    }

    #[inline]
    pub(crate) fn bool(&self, i: usize) -> bool {
        matches!(self, Cells::Bool(a) if a.value(i))
    }

    /// A duration: `Ok(seconds)`, or `Err(raw)` when it is not whole seconds.
    pub(crate) fn seconds(&self, i: usize) -> Result<i64, i64> {
        match self {
            Cells::Scaled {
                values, per_unit, ..
            } => {
                let Some(&v) = values.get(i) else {
                    return Err(0);
                };
                // `per_unit` is 1, 1e3, 1e6 or 1e9 (never 0 for durations).
                match (v.checked_rem(*per_unit), v.checked_div(*per_unit)) {
                    (Some(0), Some(secs)) => Ok(secs),
                    _ => Err(v),
                }
            }
            _ => Err(0),
        }
    }

    /// A timestamp in milliseconds since the epoch (rounded down).
    pub(crate) fn millis(&self, i: usize) -> i64 {
        match self {
            Cells::Scaled {
                values, per_unit, ..
            } => {
                let Some(&v) = values.get(i) else {
                    return i64::MIN;
                };
                if *per_unit == 0 {
                    v.saturating_mul(1_000)
                } else {
                    v.div_euclid(*per_unit)
                }
            }
            _ => i64::MIN,
        }
    }

    /// The items of the list at row `i` (`None` items are null strings).
    pub(crate) fn list(&self, i: usize) -> impl Iterator<Item = Option<&str>> {
        let (values, range) = match self {
            Cells::List(a) => {
                let offs = a.value_offsets();
                let at = |k: usize| offs.get(k).map_or(0, |&o| o as usize);
                (Some(a.values().as_string::<i32>()), at(i)..at(i + 1))
            }
            _ => (None, 0..0),
        };
        range.map(move |k| {
            let v = values?;
            if v.is_null(k) { None } else { Some(v.value(k)) }
        })
    }
}
