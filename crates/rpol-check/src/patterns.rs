//! Finding reason code patterns (at most one `*`) that can match a common
//! code, without comparing every pair: 50,000 reasons made the pairwise check
//! take over 20 s (issue 16).
//!
//! A pattern `P*S` can only meet a pattern whose prefix is compatible with `P`
//! (one is a prefix of the other) and whose suffix is compatible with `S`; a
//! literal `C` only meets stars whose prefix starts `C` and whose suffix ends
//! it. Two tries, one over prefixes (literals whole) and one over reversed
//! suffixes, give both candidate sets in time linear in the key plus the
//! candidates; the smaller of the two is checked pair by pair.

use std::collections::HashMap;

/// A trie over byte strings whose nodes remember the keys ending at them and
/// which can list every key of a subtree as one slice (keys in DFS order).
struct Trie {
    edges: HashMap<(u32, u8), u32>,
    kids: Vec<Vec<u32>>,
    /// Pattern ids whose key ends at the node.
    at: Vec<Vec<u32>>,
    /// Per node, the range of `order` that holds its subtree's ids.
    range: Vec<(u32, u32)>,
    order: Vec<u32>,
    /// Per pattern id, the node its key ends at.
    end: Vec<u32>,
}

impl Trie {
    fn build<'a>(keys: impl Iterator<Item = (u32, &'a [u8], bool)>) -> Trie {
        let mut t = Trie {
            edges: HashMap::new(),
            kids: vec![vec![]],
            at: vec![vec![]],
            range: vec![],
            order: vec![],
            end: vec![],
        };
        for (id, key, reversed) in keys {
            let mut node = 0u32;
            for i in 0..key.len() {
                let b = if reversed {
                    key[key.len() - 1 - i]
                } else {
                    key[i]
                };
                node = match t.edges.get(&(node, b)) {
                    Some(&n) => n,
                    None => {
                        let n = t.kids.len() as u32;
                        t.kids.push(vec![]);
                        t.at.push(vec![]);
                        t.kids[node as usize].push(n);
                        t.edges.insert((node, b), n);
                        n
                    }
                };
            }
            t.at[node as usize].push(id);
            if t.end.len() <= id as usize {
                t.end.resize(id as usize + 1, 0);
            }
            t.end[id as usize] = node;
        }
        // Iterative DFS: keys can be long (64 KiB), recursion could overflow.
        t.range = vec![(0, 0); t.kids.len()];
        let mut stack = vec![(0u32, false)];
        while let Some((n, done)) = stack.pop() {
            if done {
                t.range[n as usize].1 = t.order.len() as u32;
                continue;
            }
            t.range[n as usize].0 = t.order.len() as u32;
            t.order.extend_from_slice(&t.at[n as usize]);
            stack.push((n, true));
            for &k in t.kids[n as usize].iter().rev() {
                stack.push((k, false));
            }
        }
        t
    }

    /// The nodes from the root to where `key` ends (the key is in the trie).
    fn path(&self, key: &[u8], reversed: bool) -> Vec<u32> {
        let mut node = 0u32;
        let mut out = vec![0];
        for i in 0..key.len() {
            let b = if reversed {
                key[key.len() - 1 - i]
            } else {
                key[i]
            };
            match self.edges.get(&(node, b)) {
                Some(&n) => node = n,
                None => break,
            }
            out.push(node);
        }
        out
    }

    fn subtree(&self, node: u32) -> &[u32] {
        let (a, b) = self.range[node as usize];
        &self.order[a as usize..b as usize]
    }
}

/// Whether two patterns with at most one `*` each can match a common code.
pub fn overlap(a: &str, b: &str) -> bool {
    match (a.split_once('*'), b.split_once('*')) {
        (None, None) => a == b,
        (Some((p, s)), None) => matches_star(p, s, b),
        (None, Some((p, s))) => matches_star(p, s, a),
        // Both have a star: `P1 + x + S1` and `P2 + y + S2` share a code iff one
        // prefix extends the other and one suffix extends the other.
        (Some((p1, s1)), Some((p2, s2))) => {
            (p1.starts_with(p2) || p2.starts_with(p1)) && (s1.ends_with(s2) || s2.ends_with(s1))
        }
    }
}

fn matches_star(prefix: &str, suffix: &str, code: &str) -> bool {
    code.len() >= prefix.len() + suffix.len() && code.starts_with(prefix) && code.ends_with(suffix)
}

/// For each of `patterns` (distinct), one other pattern it overlaps for which
/// `wanted(i, j)` holds, if there is any. Candidates are only pairs that share
/// a compatible prefix or suffix, so the work is linear in the patterns'
/// length plus the candidates of the smaller side.
pub fn partners(patterns: &[&str], wanted: impl Fn(usize, usize) -> bool) -> Vec<Option<usize>> {
    let split: Vec<(&str, Option<&str>)> = patterns
        .iter()
        .map(|p| match p.split_once('*') {
            Some((a, b)) => (a, Some(b)),
            None => (*p, None),
        })
        .collect();
    let pre = Trie::build(
        split
            .iter()
            .enumerate()
            .map(|(i, (p, _))| (i as u32, p.as_bytes(), false)),
    );
    // Literals are whole keys on both sides.
    let suf = Trie::build(
        split
            .iter()
            .enumerate()
            .map(|(i, (p, s))| (i as u32, s.unwrap_or(p).as_bytes(), true)),
    );
    let is_star = |j: u32| split[j as usize].1.is_some();
    // Stars ending at each node, counted once (a root holding every star
    // would otherwise be counted again for each pattern).
    let stars_at = |t: &Trie| -> Vec<usize> {
        t.at.iter()
            .map(|ids| ids.iter().filter(|j| is_star(**j)).count())
            .collect()
    };
    let (pre_stars, suf_stars) = (stars_at(&pre), stars_at(&suf));
    let mut out = Vec::with_capacity(patterns.len());
    for (i, (p, s)) in split.iter().enumerate() {
        // Candidates on one side: the stars on the path to the key, and (for a
        // star) every pattern in the subtree below it.
        let side = |t: &Trie, stars: &[usize], key: &str, reversed: bool| {
            let path = t.path(key.as_bytes(), reversed);
            let end = *path.last().unwrap_or(&0);
            let above: usize = path.iter().map(|n| stars[*n as usize]).sum();
            let below = if s.is_some() { t.subtree(end).len() } else { 0 };
            (path, end, above + below)
        };
        let (ppath, pend, pcount) = side(&pre, &pre_stars, p, false);
        let (spath, send, scount) = side(&suf, &suf_stars, s.unwrap_or(p), true);
        let (t, path, end) = if pcount <= scount {
            (&pre, ppath, pend)
        } else {
            (&suf, spath, send)
        };
        let above = path
            .iter()
            .flat_map(|n| t.at[*n as usize].iter())
            .filter(|j| is_star(**j));
        let below: &[u32] = if s.is_some() { t.subtree(end) } else { &[] };
        let hit = above
            .chain(below)
            .map(|j| *j as usize)
            .find(|&j| j != i && overlap(patterns[i], patterns[j]) && wanted(i.min(j), i.max(j)));
        out.push(hit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn overlap_cases() {
        assert!(overlap("a", "a"));
        assert!(!overlap("a", "b"));
        assert!(overlap("user_*", "user_x"));
        assert!(!overlap("user_*", "item_x"));
        assert!(overlap("ab*", "a*"));
        assert!(overlap("*_x", "a*"));
        assert!(!overlap("a*x", "b*x"));
        assert!(!overlap("a*x", "a*y"));
        assert!(!overlap("ab*b", "ab"));
        assert!(overlap("ab*b", "abb"));
        assert!(overlap("*", "anything"));
    }

    fn pattern() -> impl Strategy<Value = String> {
        ("[ab]{0,3}", proptest::option::of("[ab]{0,3}"))
            .prop_map(|(p, s)| s.map_or(p.clone(), |s| format!("{p}*{s}")))
    }

    proptest! {
        /// The tries find a partner exactly when comparing every pair does.
        #[test]
        fn partners_agree_with_every_pair(
            mut pats in proptest::collection::vec(pattern(), 0..24),
            parity in any::<bool>(),
        ) {
            pats.sort();
            pats.dedup();
            let refs: Vec<&str> = pats.iter().map(String::as_str).collect();
            // Some pairs are not wanted (as two patterns of one reason are not).
            let wanted = |a: usize, b: usize| parity || !(a + b).is_multiple_of(3);
            let got = partners(&refs, wanted);
            for (i, g) in got.iter().enumerate() {
                let any = (0..refs.len()).any(|j| {
                    j != i && overlap(refs[i], refs[j]) && wanted(i.min(j), i.max(j))
                });
                prop_assert_eq!(g.is_some(), any, "{:?} at {}", refs, i);
                if let Some(j) = g {
                    prop_assert!(overlap(refs[i], refs[*j]));
                }
            }
        }
    }
}
