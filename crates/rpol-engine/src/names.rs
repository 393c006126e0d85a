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

/// Name → id for the rest of a request's vocabulary (surfaces, purposes,
/// consent topics, context fields, roles, enum variants): looked up, never
/// filled, by what a request names, with the same keyed hash as below.
pub(crate) type NameMap = std::collections::HashMap<String, u32, RandomState>;

/// Names kept end to end in one `String`: a list of 100,000 names is two
/// allocations, not 100,000.
#[derive(Default, PartialEq, Eq)]
pub struct NameList {
    text: String,
    /// End of each name in `text`.
    ends: Vec<u32>,
}

impl Clone for NameList {
    fn clone(&self) -> NameList {
        NameList {
            text: self.text.clone(),
            ends: self.ends.clone(),
        }
    }

    /// Reuses this list's buffers (a reused decision copies its unknown
    /// names without allocating once the buffers are large enough).
    fn clone_from(&mut self, source: &NameList) {
        self.text.clone_from(&source.text);
        self.ends.clone_from(&source.ends);
    }
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

    /// Empties the list, keeping its buffers.
    pub fn clear(&mut self) {
        self.text.clear();
        self.ends.clear();
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

/// The 32-bit tag a slot keeps of a name's hash: the high half (the low
/// half picks the slot), never 0, which marks an empty slot. With 32 bits a
/// name is compared only when it almost surely matches.
#[inline]
fn tag(hash: u64) -> u32 {
    (hash >> 32) as u32 | 1
}

/// Slots for `n` names at most half full (so every probe sequence is short
/// and ends at an empty slot), a power of two.
fn slots_for(n: usize) -> usize {
    n.saturating_mul(2).next_power_of_two().max(8)
}

/// One slot of [`FeatureTable`]: everything a lookup needs but the name's
/// bytes, in 16 bytes, so a lookup reads one slot and then the name.
#[derive(Clone, Copy, Default)]
struct Slot {
    tag: u32,
    id: u32,
    /// The name, `text[start..start + len]`.
    start: u32,
    len: u32,
}

/// Registry feature name → id (first declaration wins): one flat,
/// open-addressed table (linear probing, at most half full), so a request
/// naming 100,000 features costs about two cache misses a name (the slot,
/// the name's bytes), where a general hash map with the names in a list
/// costs four.
#[derive(Clone)]
pub(crate) struct FeatureTable {
    seed: RandomState,
    slots: Vec<Slot>,
    /// Every name, end to end.
    text: String,
    len: usize,
}

impl fmt::Debug for FeatureTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FeatureTable")
            .field("len", &self.len)
            .finish_non_exhaustive()
    }
}

impl FeatureTable {
    pub fn with_capacity(n: usize) -> FeatureTable {
        FeatureTable {
            seed: RandomState::default(),
            slots: vec![Slot::default(); slots_for(n)],
            text: String::new(),
            len: 0,
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
        if (self.len + 1) * 2 > self.slots.len() {
            self.grow();
        }
        // Registries are far below 4 GiB of names (a compiled artifact is
        // refused long before), so the offsets fit.
        let slot = Slot {
            tag: tag(h),
            id,
            start: self.text.len() as u32,
            len: name.len() as u32,
        };
        self.text.push_str(&name);
        self.place(h, slot);
        self.len += 1;
        None
    }

    /// Puts `slot` in the first empty slot from `hash`'s home.
    fn place(&mut self, hash: u64, slot: Slot) {
        let mask = self.slots.len() - 1;
        let mut i = hash as usize & mask;
        // At most half full: an empty slot comes before the probe wraps.
        while let Some(s) = self.slots.get_mut(i) {
            if s.tag == 0 {
                *s = slot;
                return;
            }
            i = (i + 1) & mask;
        }
    }

    /// Twice the slots, every name placed again.
    fn grow(&mut self) {
        let old = std::mem::replace(
            &mut self.slots,
            vec![Slot::default(); slots_for(self.len + 1)],
        );
        for s in old.into_iter().filter(|s| s.tag != 0) {
            let name = self.name(&s).unwrap_or("");
            let h = self.hash(name);
            self.place(h, s);
        }
    }

    fn name(&self, s: &Slot) -> Option<&str> {
        let start = s.start as usize;
        self.text.get(start..start + s.len as usize)
    }

    pub fn get(&self, name: &str) -> Option<&u32> {
        self.get_hashed(self.hash(name), name)
    }

    /// Reads the first slot of `hash`'s probe and the first byte of the
    /// name it holds, and returns something made of them. A caller touches
    /// the slots of several names (independent loads, which the processor
    /// overlaps) before looking each up, so that a request naming many
    /// features waits for memory once per batch, not once per name.
    #[inline]
    pub fn touch(&self, hash: u64) -> u32 {
        let mask = self.slots.len() - 1;
        self.slots.get(hash as usize & mask).map_or(0, |s| {
            if s.tag == tag(hash) {
                self.text
                    .as_bytes()
                    .get(s.start as usize)
                    .map_or(0, |&b| u32::from(b))
            } else {
                s.tag
            }
        })
    }

    /// [`get`](Self::get) with the hash already computed by [`hash`](Self::hash).
    #[inline]
    pub fn get_hashed(&self, hash: u64, name: &str) -> Option<&u32> {
        let mask = self.slots.len() - 1;
        let t = tag(hash);
        let mut i = hash as usize & mask;
        loop {
            let s = self.slots.get(i)?;
            if s.tag == 0 {
                return None;
            }
            if s.tag == t
                && s.len as usize == name.len()
                && self
                    .text
                    .as_bytes()
                    .get(s.start as usize..s.start as usize + name.len())
                    == Some(name.as_bytes())
            {
                return Some(&s.id);
            }
            i = (i + 1) & mask;
        }
    }
}

/// Names seen once each, found by a hash the caller already computed with
/// [`FeatureTable::hash`] (so a name is hashed once, not twice): a flat table
/// of (tag, index in the list) like [`FeatureTable`]'s, at most half full.
pub(crate) struct SeenNames<'t> {
    /// `tag << 32 | index`; 0 is empty (a tag is never 0).
    slots: Vec<u64>,
    hasher: &'t FeatureTable,
}

impl<'t> SeenNames<'t> {
    pub fn new(hasher: &'t FeatureTable) -> SeenNames<'t> {
        SeenNames {
            slots: Vec::new(),
            hasher,
        }
    }

    /// Appends `name` to `list` unless `list` has it already (`list` must
    /// only ever grow through this set); whether it was added. `room` is how
    /// many names may still come, reserved at the first one.
    pub fn add(&mut self, list: &mut NameList, hash: u64, name: &str, room: usize) -> bool {
        if (list.len() + 1) * 2 > self.slots.len() {
            self.grow(list, room);
        }
        let mask = self.slots.len() - 1;
        let t = u64::from(tag(hash));
        let mut i = hash as usize & mask;
        // At most half full: an empty slot comes before the probe wraps.
        while let Some(&e) = self.slots.get(i) {
            if e == 0 {
                let k = list.push(name) as u64;
                if let Some(s) = self.slots.get_mut(i) {
                    *s = t << 32 | k;
                }
                return true;
            }
            if e >> 32 == t && list.get((e & 0xffff_ffff) as usize) == Some(name) {
                return false;
            }
            i = (i + 1) & mask;
        }
        false
    }

    /// As [`FeatureTable::touch`], for this set's first slot of `hash`.
    #[inline]
    pub fn touch(&self, hash: u64) -> u32 {
        let mask = self.slots.len().wrapping_sub(1);
        self.slots
            .get(hash as usize & mask)
            .map_or(0, |&e| e as u32)
    }

    /// Room for `room` more names than `list` has, every name placed again.
    fn grow(&mut self, list: &NameList, room: usize) {
        let n = slots_for(list.len() + room.max(1)).max(self.slots.len() * 2);
        self.slots = vec![0; n];
        let mask = n - 1;
        for (k, name) in list.iter().enumerate() {
            let h = self.hasher.hash(name);
            let mut i = h as usize & mask;
            while let Some(e) = self.slots.get_mut(i) {
                if *e == 0 {
                    *e = u64::from(tag(h)) << 32 | k as u64;
                    break;
                }
                i = (i + 1) & mask;
            }
        }
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

    #[test]
    fn seen_names_grow_past_the_room_they_were_given() {
        let t = FeatureTable::with_capacity(0);
        let mut seen = SeenNames::new(&t);
        let mut list = NameList::new();
        let names: Vec<String> = (0..5000).map(|i| format!("n{}", i % 2500)).collect();
        let added = names
            .iter()
            .filter(|n| seen.add(&mut list, t.hash(n), n, 1))
            .count();
        assert_eq!(added, 2500);
        assert_eq!(list.len(), 2500);
        assert_eq!(list.get(2499), Some("n2499"));
    }
}
