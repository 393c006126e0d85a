//! Reduced, ordered multi-valued decision diagrams over the axes of a
//! [`Space`](crate::regions::Space): a node tests one axis and has one child
//! per class. Nodes are hash-consed, so equal sets are the same node and the
//! empty set is node [`FALSE`].
//!
//! A multi-valued diagram rather than a binary encoding: an axis's classes
//! are its values, so counting, the plainest witness and "which classes does
//! this set touch" are one walk each, with no encoding of unused codes.

use std::collections::HashMap;

/// A node: [`FALSE`], [`TRUE`] or an inner node.
pub type Node = u32;
pub const FALSE: Node = 0;
pub const TRUE: Node = 1;

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Op {
    And,
    Or,
    /// `a and not b`.
    Diff,
}

/// The diagrams of one space, sharing their nodes.
pub struct Mdd {
    /// Per level, the number of classes of its axis.
    sizes: Vec<usize>,
    /// Per node: its level (`sizes.len()` for the two leaves) and where its
    /// children start in `kids`.
    level: Vec<u32>,
    start: Vec<u32>,
    kids: Vec<Node>,
    unique: HashMap<(u32, Box<[Node]>), Node>,
    memo: HashMap<(Op, Node, Node), Node>,
    /// Inner nodes beyond this refuse to be built (a memory bound).
    max_nodes: usize,
}

/// More nodes than the bound allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooBig(pub usize);

impl Mdd {
    /// An empty store for levels of `sizes` classes each.
    pub fn new(sizes: Vec<usize>, max_nodes: usize) -> Mdd {
        let leaf = sizes.len() as u32;
        Mdd {
            sizes,
            level: vec![leaf, leaf],
            start: vec![0, 0],
            kids: Vec::new(),
            unique: HashMap::new(),
            memo: HashMap::new(),
            max_nodes,
        }
    }

    pub fn levels(&self) -> usize {
        self.sizes.len()
    }

    /// Inner nodes built so far, over every diagram of the store.
    pub fn nodes(&self) -> usize {
        self.level.len() - 2
    }

    pub fn level_of(&self, n: Node) -> usize {
        self.level[n as usize] as usize
    }

    /// Child `class` of `n` seen from `level` (a node below it does not test
    /// that level, so every class leads to itself).
    pub fn child(&self, n: Node, level: usize, class: usize) -> Node {
        if self.level_of(n) == level {
            self.kids[self.start[n as usize] as usize + class]
        } else {
            n
        }
    }

    /// The node testing `level` with these children.
    pub fn make(&mut self, level: usize, kids: &[Node]) -> Result<Node, TooBig> {
        debug_assert_eq!(kids.len(), self.sizes[level]);
        if kids.iter().all(|&k| k == kids[0]) {
            return Ok(kids[0]);
        }
        if let Some(&n) = self.unique.get(&(level as u32, kids.into())) {
            return Ok(n);
        }
        if self.nodes() >= self.max_nodes {
            return Err(TooBig(self.max_nodes));
        }
        let n = self.level.len() as Node;
        self.level.push(level as u32);
        self.start.push(self.kids.len() as u32);
        self.kids.extend_from_slice(kids);
        self.unique.insert((level as u32, kids.into()), n);
        Ok(n)
    }

    /// The requests whose class on `level` is in `classes`.
    pub fn literal(
        &mut self,
        level: usize,
        classes: impl Fn(usize) -> bool,
    ) -> Result<Node, TooBig> {
        let kids: Vec<Node> = (0..self.sizes[level])
            .map(|c| if classes(c) { TRUE } else { FALSE })
            .collect();
        self.make(level, &kids)
    }

    fn apply(&mut self, op: Op, a: Node, b: Node) -> Result<Node, TooBig> {
        match (op, a, b) {
            (Op::And, FALSE, _) | (Op::And, _, FALSE) => return Ok(FALSE),
            (Op::And, TRUE, x) | (Op::And, x, TRUE) => return Ok(x),
            (Op::Or, TRUE, _) | (Op::Or, _, TRUE) => return Ok(TRUE),
            (Op::Or, FALSE, x) | (Op::Or, x, FALSE) => return Ok(x),
            (Op::Diff, FALSE, _) | (Op::Diff, _, TRUE) => return Ok(FALSE),
            (Op::Diff, x, FALSE) => return Ok(x),
            _ if a == b => return Ok(if op == Op::Diff { FALSE } else { a }),
            _ => {}
        }
        // And and Or are symmetric: one memo entry for both argument orders.
        let key = if op != Op::Diff && b < a {
            (op, b, a)
        } else {
            (op, a, b)
        };
        if let Some(&n) = self.memo.get(&key) {
            return Ok(n);
        }
        let level = self.level_of(a).min(self.level_of(b));
        let mut kids = Vec::with_capacity(self.sizes[level]);
        for c in 0..self.sizes[level] {
            let (x, y) = (self.child(a, level, c), self.child(b, level, c));
            kids.push(self.apply(op, x, y)?);
        }
        let n = self.make(level, &kids)?;
        self.memo.insert(key, n);
        Ok(n)
    }

    pub fn and(&mut self, a: Node, b: Node) -> Result<Node, TooBig> {
        self.apply(Op::And, a, b)
    }

    pub fn or(&mut self, a: Node, b: Node) -> Result<Node, TooBig> {
        self.apply(Op::Or, a, b)
    }

    /// `a` without `b`.
    pub fn diff(&mut self, a: Node, b: Node) -> Result<Node, TooBig> {
        self.apply(Op::Diff, a, b)
    }

    pub fn not(&mut self, a: Node) -> Result<Node, TooBig> {
        self.apply(Op::Diff, TRUE, a)
    }

    /// `a` with `level` fixed at `class` (no longer depending on it).
    pub fn restrict(&mut self, a: Node, level: usize, class: usize) -> Result<Node, TooBig> {
        let mut memo = HashMap::new();
        self.restrict_in(a, level, class, &mut memo)
    }

    fn restrict_in(
        &mut self,
        a: Node,
        level: usize,
        class: usize,
        memo: &mut HashMap<Node, Node>,
    ) -> Result<Node, TooBig> {
        let l = self.level_of(a);
        if l > level {
            return Ok(a);
        }
        if l == level {
            return Ok(self.child(a, level, class));
        }
        if let Some(&n) = memo.get(&a) {
            return Ok(n);
        }
        let mut kids = Vec::with_capacity(self.sizes[l]);
        for c in 0..self.sizes[l] {
            let k = self.child(a, l, c);
            kids.push(self.restrict_in(k, level, class, memo)?);
        }
        let n = self.make(l, &kids)?;
        memo.insert(a, n);
        Ok(n)
    }

    /// The requests that are in `a` once `level` is set to some class.
    pub fn exists(&mut self, a: Node, level: usize) -> Result<Node, TooBig> {
        let mut out = FALSE;
        for c in 0..self.sizes[level] {
            let r = self.restrict(a, level, c)?;
            out = self.or(out, r)?;
        }
        Ok(out)
    }

    /// The number of regions in `a`; `None` past `u64`.
    pub fn count(&self, a: Node) -> Option<u64> {
        let mut memo = HashMap::new();
        let below = self.count_in(a, &mut memo)?;
        self.skip(0, self.level_of(a), below)
    }

    /// `n` times the classes of the levels `from..to`, none of which is tested.
    fn skip(&self, from: usize, to: usize, n: u64) -> Option<u64> {
        self.sizes[from..to]
            .iter()
            .try_fold(n, |acc, &s| acc.checked_mul(s as u64))
    }

    /// Regions of the levels from `a`'s own down.
    fn count_in(&self, a: Node, memo: &mut HashMap<Node, Option<u64>>) -> Option<u64> {
        match a {
            FALSE => return Some(0),
            TRUE => return Some(1),
            _ => {}
        }
        if let Some(&n) = memo.get(&a) {
            return n;
        }
        let l = self.level_of(a);
        let mut total = Some(0u64);
        for c in 0..self.sizes[l] {
            let k = self.child(a, l, c);
            let n = self
                .count_in(k, memo)
                .and_then(|n| self.skip(l + 1, self.level_of(k), n));
            total = total.zip(n).and_then(|(t, n)| t.checked_add(n));
        }
        memo.insert(a, total);
        total
    }

    /// The nodes reachable from `a` (itself included), leaves excluded.
    pub fn size(&self, a: Node) -> usize {
        let mut seen = std::collections::HashSet::new();
        let mut stack = vec![a];
        while let Some(n) = stack.pop() {
            if n <= TRUE || !seen.insert(n) {
                continue;
            }
            let l = self.level_of(n);
            stack.extend((0..self.sizes[l]).map(|c| self.child(n, l, c)));
        }
        seen.len()
    }

    /// Per level, the classes some region of `a` has there (`a` not empty).
    pub fn seen(&self, a: Node) -> Vec<Vec<bool>> {
        let n_levels = self.levels();
        let mut out: Vec<Vec<bool>> = self.sizes.iter().map(|&s| vec![false; s]).collect();
        let mut all = vec![false; n_levels];
        let mut visited = std::collections::HashSet::new();
        // Each edge into a node below its parent's next level skips levels,
        // where every class occurs.
        let mut stack = vec![(a, 0usize)];
        while let Some((n, from)) = stack.pop() {
            if n == FALSE {
                continue;
            }
            let l = self.level_of(n);
            for s in all.iter_mut().take(l).skip(from) {
                *s = true;
            }
            if n == TRUE || !visited.insert(n) {
                continue;
            }
            for (c, seen) in out[l].iter_mut().enumerate() {
                let k = self.child(n, l, c);
                if k != FALSE {
                    *seen = true;
                    stack.push((k, l + 1));
                }
            }
        }
        for (o, a) in out.iter_mut().zip(all) {
            if a {
                o.iter_mut().for_each(|x| *x = true);
            }
        }
        out
    }

    /// The most levels at their plain class (`plain[level]`) in a region of
    /// `a`, or `None` when `a` is empty.
    pub fn max_plain(
        &self,
        a: Node,
        plain: &[usize],
        memo: &mut HashMap<Node, Option<usize>>,
    ) -> Option<usize> {
        let below = self.max_plain_in(a, plain, memo)?;
        Some(below + self.level_of(a))
    }

    /// As [`Mdd::max_plain`], counting only the levels from `a`'s own down.
    fn max_plain_in(
        &self,
        a: Node,
        plain: &[usize],
        memo: &mut HashMap<Node, Option<usize>>,
    ) -> Option<usize> {
        match a {
            FALSE => return None,
            TRUE => return Some(0),
            _ => {}
        }
        if let Some(&n) = memo.get(&a) {
            return n;
        }
        let l = self.level_of(a);
        let best = (0..self.sizes[l])
            .filter_map(|c| {
                let k = self.child(a, l, c);
                let below = self.max_plain_in(k, plain, memo)?;
                // Skipped levels between take their plain class.
                Some(below + usize::from(c == plain[l]) + (self.level_of(k) - l - 1))
            })
            .max();
        memo.insert(a, best);
        best
    }
}
