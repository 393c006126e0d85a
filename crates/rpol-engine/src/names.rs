//! Name storage and lookup on the request path: a list of names in one
//! buffer (no allocation per name), and the registry's name → feature table.
//!
//! The table hashes with foldhash keyed by a random seed drawn when the
//! policy is compiled. Its entries come from the policy, but the names looked
//! up (and the unknown names a request de-duplicates with the same hash, see
//! `request.rs`) are chosen by whoever sends the request: without the seed,
//! which never leaves the process, an attacker cannot pick names that
//! collide, so every probe sequence stays as short as for random names.
//! Requests are also bounded (1 MiB, 100,000 features), so even a guessed
//! collision could not make a request more than linear in its size times the
//! longest probe.

use std::fmt;
use std::hash::BuildHasher;

use foldhash::fast::RandomState;
use hashbrown::HashTable;

/// Name → id for the rest of a request's vocabulary (surfaces, purposes,
/// consent topics, context fields, roles, enum variants): looked up, never
/// filled, by what a request names, with the same keyed hash as below.
pub(crate) type NameMap = std::collections::HashMap<String, u32, RandomState>;

/// Names kept end to end in one `String`: a list of 100,000 names is two
/// allocations, not 100,000.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct NameList {
    text: String,
    /// End of each name in `text`.
    ends: Vec<u32>,
}

impl NameList {
    pub fn new() -> NameList {
        NameList::default()
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The `i`-th name.
    pub fn get(&self, i: usize) -> Option<&str> {
        let end = *self.ends.get(i)? as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        self.text.get(start..end)
    }

    /// Appends `name`; returns its index.
    pub fn push(&mut self, name: &str) -> usize {
        self.text.push_str(name);
        // Requests are at most 1 MiB and registries far below 4 GiB; a longer
        // text would be refused long before (the cast cannot truncate there).
        self.ends.push(self.text.len() as u32);
        self.ends.len() - 1
    }

    pub fn iter(&self) -> NameIter<'_> {
        NameIter {
            list: self,
            next: 0,
        }
    }
}

/// The names of a [`NameList`], in order.
pub struct NameIter<'a> {
    list: &'a NameList,
    next: usize,
}

impl<'a> Iterator for NameIter<'a> {
    type Item = &'a str;
    fn next(&mut self) -> Option<&'a str> {
        let n = self.list.get(self.next)?;
        self.next += 1;
        Some(n)
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        let rest = self.list.len() - self.next;
        (rest, Some(rest))
    }
}

impl ExactSizeIterator for NameIter<'_> {}

impl<'a> IntoIterator for &'a NameList {
    type Item = &'a str;
    type IntoIter = NameIter<'a>;
    fn into_iter(self) -> NameIter<'a> {
        self.iter()
    }
}

impl<'a> FromIterator<&'a str> for NameList {
    fn from_iter<I: IntoIterator<Item = &'a str>>(it: I) -> NameList {
        let mut out = NameList::new();
        for n in it {
            out.push(n);
        }
        out
    }
}

impl fmt::Debug for NameList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<S: AsRef<str>> PartialEq<[S]> for NameList {
    fn eq(&self, other: &[S]) -> bool {
        self.len() == other.len() && self.iter().zip(other).all(|(a, b)| a == b.as_ref())
    }
}

impl<S: AsRef<str>> PartialEq<Vec<S>> for NameList {
    fn eq(&self, other: &Vec<S>) -> bool {
        *self == other[..]
    }
}

/// Registry feature name → id (first declaration wins).
#[derive(Clone)]
pub(crate) struct FeatureTable {
    seed: RandomState,
    /// (index in `names`, feature id).
    table: HashTable<(u32, u32)>,
    names: NameList,
}

impl fmt::Debug for FeatureTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FeatureTable")
            .field("len", &self.names.len())
            .finish_non_exhaustive()
    }
}

impl FeatureTable {
    pub fn with_capacity(n: usize) -> FeatureTable {
        FeatureTable {
            seed: RandomState::default(),
            table: HashTable::with_capacity(n),
            names: NameList::new(),
        }
    }

    /// The hash of `name` under this table's seed: computed once per name in
    /// a request, for the lookup and for de-duplicating unknown names.
    #[inline]
    pub fn hash(&self, name: &str) -> u64 {
        self.seed.hash_one(name)
    }

    /// Adds `name` as feature `id`; `Some` (and nothing changed) if the name
    /// is already there, as `HashMap::insert` says.
    pub fn insert(&mut self, name: String, id: u32) -> Option<u32> {
        let h = self.hash(&name);
        if let Some(&old) = self.get_hashed(h, &name) {
            return Some(old);
        }
        let k = self.names.push(&name) as u32;
        let (names, seed) = (&self.names, &self.seed);
        self.table.insert_unique(h, (k, id), |&(k, _)| {
            seed.hash_one(names.get(k as usize).unwrap_or(""))
        });
        None
    }

    pub fn get(&self, name: &str) -> Option<&u32> {
        self.get_hashed(self.hash(name), name)
    }

    /// [`get`](Self::get) with the hash already computed by [`hash`](Self::hash).
    #[inline]
    pub fn get_hashed(&self, hash: u64, name: &str) -> Option<&u32> {
        self.table
            .find(hash, |&(k, _)| self.names.get(k as usize) == Some(name))
            .map(|(_, id)| id)
    }
}

/// Names seen once each, found by a hash the caller already computed with
/// [`FeatureTable::hash`] (so a name is hashed once, not twice).
pub(crate) struct SeenNames<'t> {
    table: HashTable<u32>,
    hasher: &'t FeatureTable,
}

impl<'t> SeenNames<'t> {
    pub fn new(hasher: &'t FeatureTable) -> SeenNames<'t> {
        SeenNames {
            table: HashTable::new(),
            hasher,
        }
    }

    /// Appends `name` to `list` unless `list` has it already (`list` must
    /// only ever grow through this set); whether it was added. `room` is how
    /// many names may still come, reserved at the first one.
    pub fn add(&mut self, list: &mut NameList, hash: u64, name: &str, room: usize) -> bool {
        let seed = self.hasher;
        if self.table.capacity() == 0 {
            self.table
                .reserve(room, |&k| seed.hash(list.get(k as usize).unwrap_or("")));
        }
        if self
            .table
            .find(hash, |&k| list.get(k as usize) == Some(name))
            .is_some()
        {
            return false;
        }
        let k = list.push(name) as u32;
        let names = &*list;
        self.table
            .insert_unique(hash, k, |&k| seed.hash(names.get(k as usize).unwrap_or("")));
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_list_keeps_names_in_order() {
        let l: NameList = ["a", "", "bc"].into_iter().collect();
        assert_eq!(l.len(), 3);
        assert_eq!(l.iter().collect::<Vec<_>>(), ["a", "", "bc"]);
        assert_eq!(l, vec!["a", "", "bc"]);
        assert_eq!(l.get(3), None);
        assert_eq!(format!("{l:?}"), r#"["a", "", "bc"]"#);
    }

    #[test]
    fn the_table_finds_every_name_and_keeps_the_first_id() {
        let mut t = FeatureTable::with_capacity(4);
        for i in 0..1000u32 {
            assert_eq!(t.insert(format!("f{i}"), i), None);
        }
        assert_eq!(t.insert("f7".into(), 1000), Some(7));
        for i in 0..1000u32 {
            assert_eq!(t.get(&format!("f{i}")), Some(&i));
        }
        assert_eq!(t.get("f1000"), None);
        assert_eq!(t.get(""), None);
    }

    #[test]
    fn seen_names_keep_the_first_of_each() {
        let t = FeatureTable::with_capacity(0);
        let mut seen = SeenNames::new(&t);
        let mut list = NameList::new();
        for n in ["x", "y", "x", "", "y", ""] {
            seen.add(&mut list, t.hash(n), n, 6);
        }
        assert_eq!(list, vec!["x", "y", ""]);
    }
}
