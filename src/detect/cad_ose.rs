//! The contextual model of CAD OSE as its NAB description has it (`cad.model = Ose`), written
//! here from that description: contexts are pairs of *sets of facts*, matched by subsets and
//! fed back as facts.
//!
//! A value becomes `bits` sensor facts (one per binary digit of its level, as in
//! [`super::cad`]). The *left group* of a step is the value's facts plus one fact per context
//! that was active at that step (at most `active` of them, the most often active first), so a
//! left group carries the history that led to it without a fixed window. A context is a left
//! semi-context (a set of facts) and a right semi-context (the sensor facts that followed).
//!
//! Each step:
//! 1. the previous left group and the value's facts form the *zero-level* context; if it is new
//!    it is learned, and the step may *cross* contexts: every zero-level context whose left part
//!    was partly present in the previous left group (and whose right part is partly present in
//!    the value) yields a context made of the two intersections, a generalisation that later
//!    matches by subset (left parts of at most `max_left` facts);
//! 2. the contexts whose left part was wholly present in the previous left group are
//!    *selected*; those whose right part is wholly present in the value are *active*;
//! 3. the score is half the share of selected contexts that are not active plus half the
//!    share of the potential new contexts (the zero-level one and the crossings) that were
//!    really new; it is 0 when every fact of the value was predicted (the predictions are the
//!    right parts of the selected contexts with the best record of foreseen facts).
//!
//! Causal: levels split the running range (NAB hands CAD the file's range in advance). The
//! memory is bounded: when it holds `capacity` contexts it starts afresh (a series that keeps
//! making new contexts is one whose history no longer predicts it).

use super::saturate;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Facts above this are contexts fed back (the rest are sensor facts).
const NEURON: u32 = 1 << 31;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct LeftSemi {
    /// Sorted facts.
    facts: Vec<u32>,
    /// (right semi-context, context) pairs that share this left part.
    contexts: Vec<(u32, u32)>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Context {
    left: u32,
    right: u32,
    /// Right facts expected over the times the context was selected.
    expected: u32,
    /// Of those, the facts that came.
    came: u32,
    /// Times the context was active (its right part came whole).
    active: u32,
    /// Learned from a whole step (zero level), not from a crossing.
    zero: bool,
}

/// The model's state; the indexes are rebuilt after loading.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OseModel {
    bits: u32,
    max_left: usize,
    active: usize,
    capacity: usize,
    lowest: f64,
    highest: f64,
    lefts: Vec<LeftSemi>,
    rights: Vec<Vec<u32>>,
    contexts: Vec<Context>,
    /// The left group of the last step, sorted.
    group: Vec<u32>,
    /// Facts predicted for the next value, sorted.
    predicted: Vec<u32>,
    #[serde(skip)]
    index: Option<Index>,
}

/// Lookups derived from the state (not serialised).
#[derive(Debug, Clone, Default)]
struct Index {
    left_of: HashMap<Vec<u32>, u32>,
    right_of: HashMap<Vec<u32>, u32>,
    /// Fact -> left semi-contexts holding it.
    holders: HashMap<u32, Vec<u32>>,
    /// Left semi-contexts with a fact in the last left group, and how many they had.
    crossed: Vec<(u32, u32)>,
    /// Scratch counts per left semi-context.
    counts: Vec<u32>,
}

/// Sorted intersection of two sorted lists.
fn intersect(a: &[u32], b: &[u32]) -> Vec<u32> {
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                out.push(a[i]);
                i += 1;
                j += 1;
            }
        }
    }
    out
}

impl OseModel {
    pub fn new(bits: u32, max_left: usize, active: usize, capacity: usize) -> Self {
        OseModel {
            bits,
            max_left,
            active,
            capacity,
            lowest: f64::INFINITY,
            highest: f64::NEG_INFINITY,
            lefts: Vec::new(),
            rights: Vec::new(),
            contexts: Vec::new(),
            group: Vec::new(),
            predicted: Vec::new(),
            index: Some(Index::default()),
        }
    }

    /// CAD's quantiser on the running range: the range is cut into `2^bits - 1` steps, so
    /// the top level is the maximum itself (a new record is always all ones).
    fn level(&self, value: f64) -> u32 {
        let top = ((1u32 << self.bits) - 1) as f64;
        let range = self.highest - self.lowest;
        if range.is_nan() || range <= 0.0 {
            return 0;
        }
        ((value - self.lowest) / range * top)
            .floor()
            .clamp(0.0, top) as u32
    }

    fn index(&mut self) -> &mut Index {
        if self.index.is_none() {
            let mut ix = Index::default();
            for (id, l) in self.lefts.iter().enumerate() {
                ix.left_of.insert(l.facts.clone(), id as u32);
                for &f in &l.facts {
                    ix.holders.entry(f).or_default().push(id as u32);
                }
            }
            for (id, r) in self.rights.iter().enumerate() {
                ix.right_of.insert(r.clone(), id as u32);
            }
            ix.counts = vec![0; self.lefts.len()];
            self.index = Some(ix);
            let group = self.group.clone();
            self.cross(&group);
        }
        self.index.as_mut().expect("built above")
    }

    /// Finds or learns the context (left, right); `Some(id)` when it is new.
    fn learn(&mut self, left: &[u32], right: &[u32], zero: bool) -> Option<u32> {
        let ix = self.index();
        let l = match ix.left_of.get(left) {
            Some(&l) => l,
            None => {
                let l = self.lefts.len() as u32;
                let ix = self.index.as_mut().expect("built");
                ix.left_of.insert(left.to_vec(), l);
                for &f in left {
                    ix.holders.entry(f).or_default().push(l);
                }
                ix.counts.push(0);
                self.lefts.push(LeftSemi {
                    facts: left.to_vec(),
                    contexts: Vec::new(),
                });
                l
            }
        };
        let ix = self.index.as_mut().expect("built");
        let r = match ix.right_of.get(right) {
            Some(&r) => r,
            None => {
                let r = self.rights.len() as u32;
                ix.right_of.insert(right.to_vec(), r);
                self.rights.push(right.to_vec());
                r
            }
        };
        let semi = &mut self.lefts[l as usize];
        if let Some(&(_, c)) = semi.contexts.iter().find(|(rr, _)| *rr == r) {
            if zero {
                self.contexts[c as usize].zero = true;
            }
            return None;
        }
        let c = self.contexts.len() as u32;
        semi.contexts.push((r, c));
        self.contexts.push(Context {
            left: l,
            right: r,
            zero,
            ..Context::default()
        });
        Some(c)
    }

    /// Marks the left semi-contexts with facts in `group` (how many each has) and returns the
    /// facts predicted: the right parts of the wholly present contexts with the best record.
    fn cross(&mut self, group: &[u32]) -> Vec<u32> {
        let ix = self.index.as_mut().expect("built");
        let mut touched = Vec::new();
        for f in group {
            if let Some(hs) = ix.holders.get(f) {
                for &h in hs {
                    if ix.counts[h as usize] == 0 {
                        touched.push(h);
                    }
                    ix.counts[h as usize] += 1;
                }
            }
        }
        touched.sort_unstable();
        let mut best = 0.0;
        let mut predicted: Vec<u32> = Vec::new();
        ix.crossed.clear();
        for &h in &touched {
            let n = std::mem::take(&mut ix.counts[h as usize]);
            ix.crossed.push((h, n));
            let semi = &self.lefts[h as usize];
            if n as usize != semi.facts.len() {
                continue;
            }
            for &(_, c) in &semi.contexts {
                let ctx = &self.contexts[c as usize];
                let weight = if ctx.expected > 0 {
                    f64::from(ctx.came) / f64::from(ctx.expected)
                } else {
                    0.0
                };
                if weight > best {
                    best = weight;
                    predicted.clear();
                }
                if weight >= best {
                    predicted.extend_from_slice(&self.rights[ctx.right as usize]);
                }
            }
        }
        predicted.sort_unstable();
        predicted.dedup();
        predicted
    }

    fn forget(&mut self) {
        self.lefts.clear();
        self.rights.clear();
        self.contexts.clear();
        self.group.clear();
        self.predicted.clear();
        self.index = Some(Index::default());
    }

    /// Scores the value (in [0, 1]; `None` at the first point), then learns it.
    pub fn observe(&mut self, value: f64) -> Option<f64> {
        let value = saturate(value);
        self.lowest = self.lowest.min(value);
        self.highest = self.highest.max(value);
        if self.contexts.len() >= self.capacity {
            self.forget();
        }
        self.index();
        let q = self.level(value);
        let sens: Vec<u32> = (0..self.bits).map(|i| 2 * i + (q >> i & 1)).collect();
        let surprised = sens
            .iter()
            .any(|f| self.predicted.binary_search(f).is_err());
        let first = self.group.is_empty();

        // the zero-level context: the last left group, then this value
        let mut potential: Vec<(Vec<u32>, Vec<u32>)> = Vec::new();
        let mut fresh = None;
        if !first {
            let group = std::mem::take(&mut self.group);
            fresh = self.learn(&group, &sens, true);
            potential.push((group.clone(), sens.clone()));
            self.group = group;
        }
        let crossing = fresh.is_some();

        // selected and active contexts among those crossed by the last left group
        let (mut selected, mut active) = (0u32, Vec::new());
        let mut crossings = Vec::new();
        let crossed = std::mem::take(&mut self.index.as_mut().expect("built").crossed);
        for &(l, n) in &crossed {
            let whole = n as usize == self.lefts[l as usize].facts.len();
            if !whole && !crossing {
                continue;
            }
            for &(r, c) in &self.lefts[l as usize].contexts {
                if Some(c) == fresh {
                    continue;
                }
                let right = &self.rights[r as usize];
                let came = right
                    .iter()
                    .filter(|f| sens.binary_search(f).is_ok())
                    .count() as u32;
                let ctx = &mut self.contexts[c as usize];
                let generalise = crossing && ctx.zero && came > 0 && n as usize <= self.max_left;
                if whole {
                    selected += 1;
                    ctx.expected += right.len() as u32;
                    ctx.came += came;
                    if came as usize == right.len() {
                        ctx.active += 1;
                        active.push((ctx.active, c));
                        continue;
                    }
                }
                if generalise {
                    crossings.push((l, r));
                }
            }
        }
        for (l, r) in crossings {
            let left = intersect(&self.lefts[l as usize].facts, &self.group);
            let right = intersect(&self.rights[r as usize], &sens);
            potential.push((left, right));
        }
        let share_active = if selected > 0 {
            active.len() as f64 / f64::from(selected)
        } else {
            0.0
        };

        // the new left group: this value and the most often active contexts
        active.sort_unstable();
        let mut group = sens.clone();
        group.extend(
            active
                .iter()
                .rev()
                .take(self.active)
                .map(|&(_, c)| NEURON + c),
        );
        group.sort_unstable();

        // learn the crossings, then mark what the new left group crosses
        // in a fixed order: the ids of new contexts become facts
        potential.sort_unstable();
        potential.dedup();
        let uniq = potential.len();
        let mut new = u32::from(crossing);
        let zero_level = (self.group.clone(), sens.clone());
        for (left, right) in potential {
            if left.is_empty()
                || right.is_empty()
                || (&left, &right) == (&zero_level.0, &zero_level.1)
            {
                continue;
            }
            new += u32::from(self.learn(&left, &right, false).is_some());
        }
        self.predicted = self.cross(&group);
        self.group = group;
        if first {
            return None;
        }
        let share_new = if crossing && uniq > 0 {
            f64::from(new) / uniq as f64
        } else {
            0.0
        };
        Some(if surprised {
            ((1.0 - share_active + share_new) / 2.0).clamp(0.0, 1.0)
        } else {
            0.0
        })
    }
}
