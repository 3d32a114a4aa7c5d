//! Streaming Random Cut Forest (Guha, Mishra, Roy, Schrijvers, ICML 2016), written here.
//!
//! Each tree keeps a time-decayed reservoir sample of the (shingled) points; a point's score is
//! the expected inverse depth at which a random cut would isolate it, averaged over trees and
//! normalised so that ordinary points score about 1 (AWS's scalar score). The RCF metric
//! scorer's batch cut-off (mean + k × population std-dev) is available as [`batch_cutoff`] and
//! [`anomaly_indicators`]; the streaming [`RcfDetector`] applies the same rule online.

#![allow(clippy::needless_range_loop)] // parallel arrays indexed by dimension read clearer

use super::band::BandDetector;
use super::stats::{EwStats, Rng, normal_tail};
use super::{Band, BandConfig, DetectError, Detector, Timestamp, Verdict, check_finite, saturate};
use serde::{Deserialize, Serialize};

/// Forest shape. Defaults are the RCF metric scorer's: one feature, 50 trees, 100 samples per tree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RcfConfig {
    pub trees: usize,
    pub sample_size: usize,
    /// Consecutive values concatenated into one point (1 = the value alone).
    pub shingle: usize,
    /// Reservoir time decay λ; `None` = 1 / (10 × sample size), as AWS's library defaults.
    pub time_decay: Option<f64>,
    pub seed: u64,
    /// The RCF metric scorer's k: anomalous when the score is above mean + k × std-dev of the
    /// scores so far.
    pub cutoff_k: f64,
}

impl Default for RcfConfig {
    fn default() -> Self {
        RcfConfig {
            trees: 50,
            sample_size: 100,
            shingle: 1,
            time_decay: None,
            seed: 2,
            cutoff_k: 3.0,
        }
    }
}

impl RcfConfig {
    /// NAB's published setup for AWS's RCF: 100 trees, 256 samples, shingle 1.
    pub fn nab() -> Self {
        RcfConfig {
            trees: 100,
            sample_size: 256,
            ..RcfConfig::default()
        }
    }

    pub fn validate(&self) -> Result<(), DetectError> {
        if self.trees == 0 || self.trees > 10_000 {
            return Err(DetectError::Config(format!(
                "RCF needs 1 to 10000 trees, not {}",
                self.trees
            )));
        }
        if self.sample_size < 2 || self.sample_size > 1 << 20 {
            return Err(DetectError::Config(format!(
                "RCF sample size must be between 2 and 1048576, not {}",
                self.sample_size
            )));
        }
        if self.shingle == 0 || self.shingle > 1024 {
            return Err(DetectError::Config(format!(
                "RCF shingle size must be between 1 and 1024, not {}",
                self.shingle
            )));
        }
        if let Some(l) = self.time_decay
            && !(l.is_finite() && l >= 0.0)
        {
            return Err(DetectError::Config(format!(
                "RCF time decay must be a non-negative number, not {l}"
            )));
        }
        if !(self.cutoff_k.is_finite() && self.cutoff_k >= 0.0) {
            return Err(DetectError::Config(format!(
                "RCF cut-off k must be a non-negative number, not {}",
                self.cutoff_k
            )));
        }
        Ok(())
    }
}

/// The RCF metric scorer's threshold: mean + k × population standard deviation of the batch's
/// scores.
pub fn batch_cutoff(scores: &[f64], k: f64) -> f64 {
    if scores.is_empty() {
        return f64::INFINITY;
    }
    let n = scores.len() as f64;
    let mean = scores.iter().sum::<f64>() / n;
    let var = scores.iter().map(|s| (s - mean) * (s - mean)).sum::<f64>() / n;
    mean + k * var.sqrt()
}

/// The RCF metric scorer's `AnomalyIndicator`: 1.0 where a score is strictly above the batch
/// cut-off.
pub fn anomaly_indicators(scores: &[f64], k: f64) -> Vec<f64> {
    let cut = batch_cutoff(scores, k);
    scores
        .iter()
        .map(|&s| if s > cut { 1.0 } else { 0.0 })
        .collect()
}

const NONE: u32 = u32::MAX;
/// Trees descended together when scoring.
const LANES: usize = 8;
const LEAF: u32 = 1 << 31;

/// `1 / (k + 1)` for the depths a tree usually has: the score of a point cut off at depth `k`.
const INVERSE: [f64; 64] = {
    let mut a = [0.0; 64];
    let mut k = 0;
    while k < 64 {
        a[k] = 1.0 / (k as f64 + 1.0);
        k += 1;
    }
    a
};

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct Node {
    left: u32,
    right: u32,
    parent: u32,
    cut_dim: u32,
    mass: u32,
    cut: f64,
}

/// One random cut tree over an arena: internal nodes and leaves live in vectors, linked by
/// indices (a reference with the top bit set is a leaf), so a tree serialises as plain data.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Tree {
    dim: usize,
    root: u32,
    /// Internal nodes, one cache line each (the descent reads a node's fields together).
    nodes: Vec<Node>,
    /// `2 × dim` per internal node: lows then highs.
    bbox: Vec<f64>,
    free_internal: Vec<u32>,
    // leaves
    leaf_parent: Vec<u32>,
    leaf_mass: Vec<u32>,
    leaf_point: Vec<f64>,
    free_leaf: Vec<u32>,
}

impl Tree {
    /// Sets every internal node's mass to the sum of its children's. States saved before the
    /// duplicate fix (main 9377156 and earlier) counted a repeated point twice in each ancestor;
    /// no score read those masses then, the `damp` of a repeated value reads the root's now.
    /// A reference out of range (a damaged state) leaves the masses as they were.
    fn recount(&mut self) {
        if self.root == NONE || self.root & LEAF != 0 {
            return;
        }
        let mass = |t: &Tree, r: u32| -> Option<u32> {
            if r & LEAF != 0 {
                t.leaf_mass.get((r & !LEAF) as usize).copied()
            } else {
                t.nodes.get(r as usize).map(|n| n.mass)
            }
        };
        // post-order without recursion: a node is summed once both children are
        let mut stack = vec![(self.root, false)];
        let mut budget = 2 * self.nodes.len() + 2;
        while let Some((r, children_done)) = stack.pop() {
            budget = match budget.checked_sub(1) {
                Some(b) => b,
                None => return,
            };
            let Some(&n) = self.nodes.get(r as usize) else {
                return;
            };
            if children_done {
                match (mass(self, n.left), mass(self, n.right)) {
                    (Some(a), Some(b)) => self.nodes[r as usize].mass = a.saturating_add(b),
                    _ => return,
                }
            } else {
                stack.push((r, true));
                for c in [n.left, n.right] {
                    if c & LEAF == 0 {
                        stack.push((c, false));
                    }
                }
            }
        }
    }

    fn new(dim: usize) -> Self {
        Tree {
            dim,
            root: NONE,
            nodes: Vec::new(),
            bbox: Vec::new(),
            free_internal: Vec::new(),
            leaf_parent: Vec::new(),
            leaf_mass: Vec::new(),
            leaf_point: Vec::new(),
            free_leaf: Vec::new(),
        }
    }

    fn leaf_pt(&self, l: u32) -> &[f64] {
        let i = l as usize * self.dim;
        &self.leaf_point[i..i + self.dim]
    }

    fn node_mass(&self, r: u32) -> u32 {
        if r & LEAF != 0 {
            self.leaf_mass[(r & !LEAF) as usize]
        } else {
            self.nodes[r as usize].mass
        }
    }

    fn set_parent(&mut self, r: u32, p: u32) {
        if r & LEAF != 0 {
            self.leaf_parent[(r & !LEAF) as usize] = p;
        } else {
            self.nodes[r as usize].parent = p;
        }
    }

    fn new_leaf(&mut self, point: &[f64], parent: u32) -> u32 {
        if let Some(l) = self.free_leaf.pop() {
            let i = l as usize * self.dim;
            self.leaf_point[i..i + self.dim].copy_from_slice(point);
            self.leaf_parent[l as usize] = parent;
            self.leaf_mass[l as usize] = 1;
            l
        } else {
            self.leaf_point.extend_from_slice(point);
            self.leaf_parent.push(parent);
            self.leaf_mass.push(1);
            (self.leaf_mass.len() - 1) as u32
        }
    }

    fn new_internal(&mut self) -> u32 {
        if let Some(n) = self.free_internal.pop() {
            n
        } else {
            self.nodes.push(Node {
                left: NONE,
                right: NONE,
                parent: NONE,
                cut_dim: 0,
                mass: 0,
                cut: 0.0,
            });
            self.bbox.extend(std::iter::repeat_n(0.0, 2 * self.dim));
            (self.nodes.len() - 1) as u32
        }
    }

    /// Inserts a point; returns its leaf (an existing one when the point is a duplicate).
    ///
    /// The boxes are read where they are cached (a leaf's box is its point): nothing is copied
    /// per level.
    fn insert(&mut self, point: &[f64], rng: &mut Rng) -> u32 {
        let d = self.dim;
        if self.root == NONE {
            let l = self.new_leaf(point, NONE);
            self.root = l | LEAF;
            return l;
        }
        let mut node = self.root;
        loop {
            let is_leaf = node & LEAF != 0;
            if is_leaf && self.leaf_pt(node & !LEAF) == point {
                // duplicate: one more copy in the leaf (its ancestors' masses already grew on
                // the way down)
                let l = node & !LEAF;
                self.leaf_mass[l as usize] += 1;
                return l;
            }
            // the random cut over the box extended by the point (the box read where it is
            // cached; a leaf's box is its point)
            let (lo, hi) = self.box_slices(node);
            let mut total = 0.0;
            for i in 0..d {
                total += hi[i].max(point[i]) - lo[i].min(point[i]);
            }
            let mut r = rng.next_f64() * total;
            let mut cd = d - 1;
            let mut cv = hi[cd].max(point[cd]);
            for i in 0..d {
                let a = lo[i].min(point[i]);
                let w = hi[i].max(point[i]) - a;
                if r < w {
                    cd = i;
                    cv = a + r;
                    break;
                }
                r -= w;
            }
            let mut separates = (point[cd] < lo[cd] && cv >= point[cd] && cv < lo[cd])
                || (point[cd] > hi[cd] && cv >= hi[cd] && cv < point[cd]);
            if !separates && is_leaf {
                // a distinct leaf must be split; rounding can leave the cut on its edge
                if let Some(i) = (0..d).find(|&i| point[i] != lo[i]) {
                    (separates, cd, cv) = (true, i, point[i].min(lo[i]));
                }
            }
            if separates || total == 0.0 {
                // a new internal node takes `node`'s place, with the new leaf beside it
                let parent = if is_leaf {
                    self.leaf_parent[(node & !LEAF) as usize]
                } else {
                    self.nodes[node as usize].parent
                };
                let n = self.new_internal();
                let leaf = self.new_leaf(point, n) | LEAF;
                let point_left = point[cd] <= cv;
                let ni = n as usize;
                let bi = ni * 2 * d;
                for i in 0..d {
                    let (lo, hi) = self.extent(node, i);
                    self.bbox[bi + i] = lo.min(point[i]);
                    self.bbox[bi + d + i] = hi.max(point[i]);
                }
                let mass = self.node_mass(node) + 1;
                let (left, right) = if point_left {
                    (leaf, node)
                } else {
                    (node, leaf)
                };
                self.nodes[ni] = Node {
                    left,
                    right,
                    parent,
                    cut_dim: cd as u32,
                    mass,
                    cut: cv,
                };
                self.set_parent(node, n);
                if parent == NONE {
                    self.root = n;
                } else if self.nodes[parent as usize].left == node {
                    self.nodes[parent as usize].left = n;
                } else {
                    self.nodes[parent as usize].right = n;
                }
                // ancestors: mass and box already updated on the way down
                return leaf & !LEAF;
            }
            // descend: this node's box and mass grow by the point
            let ni = node as usize;
            self.nodes[ni].mass += 1;
            let bi = ni * 2 * d;
            for i in 0..d {
                let v = point[i];
                if v < self.bbox[bi + i] {
                    self.bbox[bi + i] = v;
                }
                if v > self.bbox[bi + d + i] {
                    self.bbox[bi + d + i] = v;
                }
            }
            node = self.child(node, point);
        }
    }

    /// Removes one copy of the point held by leaf `l`.
    fn delete(&mut self, l: u32) {
        let d = self.dim;
        let li = l as usize;
        if self.leaf_mass[li] > 1 {
            self.leaf_mass[li] -= 1;
            let mut p = self.leaf_parent[li];
            while p != NONE {
                self.nodes[p as usize].mass -= 1;
                p = self.nodes[p as usize].parent;
            }
            return;
        }
        let parent = self.leaf_parent[li];
        self.free_leaf.push(l);
        if parent == NONE {
            self.root = NONE;
            return;
        }
        let pi = parent as usize;
        let sibling = if self.nodes[pi].left == l | LEAF {
            self.nodes[pi].right
        } else {
            self.nodes[pi].left
        };
        let grand = self.nodes[pi].parent;
        self.set_parent(sibling, grand);
        self.free_internal.push(parent);
        if grand == NONE {
            self.root = sibling;
            return;
        }
        let gi = grand as usize;
        if self.nodes[gi].left == parent {
            self.nodes[gi].left = sibling;
        } else {
            self.nodes[gi].right = sibling;
        }
        // walk up: one less point, boxes shrink to the union of the children (read in place:
        // no scratch box per deletion)
        let mut node = grand;
        let mut shrinking = true;
        while node != NONE {
            let ni = node as usize;
            self.nodes[ni].mass -= 1;
            if shrinking {
                let (left, right) = (self.nodes[ni].left, self.nodes[ni].right);
                let bi = ni * 2 * d;
                shrinking = false;
                for i in 0..d {
                    let (llo, lhi) = self.extent(left, i);
                    let (rlo, rhi) = self.extent(right, i);
                    let (lo, hi) = (llo.min(rlo), lhi.max(rhi));
                    shrinking |= lo != self.bbox[bi + i] || hi != self.bbox[bi + d + i];
                    self.bbox[bi + i] = lo;
                    self.bbox[bi + d + i] = hi;
                }
                // a box that did not change leaves every ancestor's box as it was: only the
                // masses remain to be decremented on the way up
            }
            node = self.nodes[ni].parent;
        }
    }

    /// A node's box as (lows, highs), read in place: a leaf's box is its point.
    #[inline]
    fn box_slices(&self, r: u32) -> (&[f64], &[f64]) {
        let d = self.dim;
        if r & LEAF != 0 {
            let p = self.leaf_pt(r & !LEAF);
            (p, p)
        } else {
            let bi = r as usize * 2 * d;
            self.bbox[bi..bi + 2 * d].split_at(d)
        }
    }

    /// A node's (low, high) along dimension `i`: its cached box, or a leaf's point.
    fn extent(&self, r: u32, i: usize) -> (f64, f64) {
        let d = self.dim;
        if r & LEAF != 0 {
            let v = self.leaf_point[(r & !LEAF) as usize * d + i];
            (v, v)
        } else {
            let bi = r as usize * 2 * d;
            (self.bbox[bi + i], self.bbox[bi + d + i])
        }
    }

    /// One step of the descent of a point: the child of internal node `node` it falls into.
    #[inline]
    fn child(&self, node: u32, point: &[f64]) -> u32 {
        let n = &self.nodes[node as usize];
        let v = if point.len() == 1 {
            point[0]
        } else {
            point[n.cut_dim as usize]
        };
        if v <= n.cut { n.left } else { n.right }
    }

    /// AWS's scalar anomaly score of a point not inserted (expected inverse isolation depth),
    /// from the leaf `node` its descent reached after `depth` internal nodes, the last of them
    /// `parent`.
    fn score_from(&self, point: &[f64], node: u32, parent: u32, depth: usize) -> f64 {
        if self.root == NONE {
            return 0.0;
        }
        let d = self.dim;
        let l = node & !LEAF;
        // the path back up follows the parent links from the leaf's parent: the descent only
        // counted its steps
        let mut up = parent;
        let mut k = depth;
        let depth = depth as f64;
        let mut score = if self.leaf_pt(l) == point {
            // seen before: rcflib's `damp(leaf mass, tree mass) × score_seen(depth, leaf mass)`,
            // final (every box on the way up holds the point, so no cut could separate it)
            let mass = self.leaf_mass[l as usize] as f64;
            let tree_mass = self.node_mass(self.root) as f64;
            return (1.0 - mass / (2.0 * tree_mass)) / (depth + (mass + 1.0).log2());
        } else {
            1.0 / (depth + 1.0)
        };
        while up != NONE {
            k -= 1;
            let n = up;
            up = self.nodes[n as usize].parent;
            let bi = n as usize * 2 * d;
            let (gap, range) = if d == 1 {
                // one value: the same sums without the loop
                let (lo, hi, v) = (self.bbox[bi], self.bbox[bi + 1], point[0]);
                let gap = if v < lo {
                    lo - v
                } else if v > hi {
                    v - hi
                } else {
                    0.0
                };
                (gap, hi.max(v) - lo.min(v))
            } else {
                let (mut gap, mut range) = (0.0, 0.0);
                for i in 0..d {
                    let lo = self.bbox[bi + i];
                    let hi = self.bbox[bi + d + i];
                    let v = point[i];
                    if v < lo {
                        gap += lo - v;
                    } else if v > hi {
                        gap += v - hi;
                    }
                    range += hi.max(v) - lo.min(v);
                }
                (gap, range)
            };
            if gap <= 0.0 {
                // boxes nest: a point inside this box is inside every ancestor's box too
                break;
            }
            if range > 0.0 {
                let p = gap / range;
                let unseen = INVERSE
                    .get(k)
                    .copied()
                    .unwrap_or_else(|| 1.0 / (k as f64 + 1.0));
                score = p * unseen + (1.0 - p) * score;
            }
        }
        score
    }
}

/// Adds the scores of a group of trees to `sum`, in tree order (so the sum is the same as tree
/// by tree). The trees descend in lockstep, so the dependent loads of their descents overlap;
/// the group's size is a constant, so the lanes are plain arrays the compiler unrolls.
#[inline(always)]
fn descend_group<const N: usize>(trees: &[Tree; N], point: &[f64], sum: &mut f64) {
    let mut at = [NONE; N];
    let mut depth = [0usize; N];
    // the last internal node of each descent: the leaf's parent, where the walk back up starts
    let mut parent = [NONE; N];
    for j in 0..N {
        at[j] = trees[j].root;
    }
    loop {
        let mut moving = 0u32;
        for j in 0..N {
            let n = at[j];
            if n & LEAF == 0 {
                depth[j] += 1;
                parent[j] = n;
                at[j] = trees[j].child(n, point);
                moving += 1;
            }
        }
        if moving == 0 {
            break;
        }
    }
    for j in 0..N {
        *sum += trees[j].score_from(point, at[j], parent[j], depth[j]);
    }
}

/// Loaded trees recount their internal masses ([`Tree::recount`]).
fn recounted<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<Tree>, D::Error> {
    let mut trees = Vec::<Tree>::deserialize(d)?;
    trees.iter_mut().for_each(Tree::recount);
    Ok(trees)
}

/// A forest with time-decayed reservoir sampling per tree.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RandomCutForest {
    config: RcfConfig,
    dim: usize,
    decay: f64,
    #[serde(deserialize_with = "recounted")]
    trees: Vec<Tree>,
    /// Per tree: the sampled points as (priority key, leaf), a max-heap on the key.
    samples: Vec<Vec<(f64, u32)>>,
    seq: u64,
    rng: Rng,
    /// Per tree, `exp(largest kept key + λ t)`: a point is accepted when `-ln u` is below it.
    #[serde(skip)]
    limits: Vec<f64>,
}

impl RandomCutForest {
    pub fn new(config: &RcfConfig, dim: usize) -> Result<Self, DetectError> {
        config.validate()?;
        let decay = config
            .time_decay
            .unwrap_or(1.0 / (10.0 * config.sample_size as f64));
        Ok(RandomCutForest {
            config: config.clone(),
            dim,
            decay,
            trees: (0..config.trees).map(|_| Tree::new(dim)).collect(),
            samples: vec![Vec::with_capacity(config.sample_size); config.trees],
            seq: 0,
            rng: Rng::new(config.seed),
            limits: Vec::new(),
        })
    }

    /// Points in each tree's sample (the same for all trees once full).
    pub fn sampled(&self) -> usize {
        self.samples.first().map_or(0, Vec::len)
    }

    /// Mean depth of the sampled points' leaves, weighted by copies (about 2·ln(sample) for a
    /// healthy forest; a diagnostic).
    pub fn mean_depth(&self) -> f64 {
        let (mut sum, mut n) = (0.0, 0.0);
        for t in &self.trees {
            let mut stack = vec![(t.root, 0u32)];
            while let Some((r, d)) = stack.pop() {
                if r == NONE {
                    continue;
                }
                if r & LEAF != 0 {
                    let m = t.leaf_mass[(r & !LEAF) as usize] as f64;
                    sum += d as f64 * m;
                    n += m;
                } else {
                    stack.push((t.nodes[r as usize].left, d + 1));
                    stack.push((t.nodes[r as usize].right, d + 1));
                }
            }
        }
        if n > 0.0 { sum / n } else { 0.0 }
    }

    /// Mean score over the trees; about 1 for ordinary points, larger for anomalies.
    ///
    /// The descent is a chain of dependent loads (each node says where the next one is), so it
    /// waits on memory at every level; [`LANES`] trees descend in lockstep so that their
    /// waits overlap, then each tree's score is finished on the way back up.
    pub fn score(&mut self, point: &[f64]) -> f64 {
        debug_assert_eq!(point.len(), self.dim);
        if self.sampled() == 0 {
            return 0.0;
        }
        let mut sum = 0.0;
        let mut groups = self.trees.chunks_exact(LANES);
        for group in &mut groups {
            let group: &[Tree; LANES] = group.try_into().expect("a group of LANES trees");
            descend_group(group, point, &mut sum);
        }
        for t in groups.remainder() {
            descend_group::<1>(std::array::from_ref(t), point, &mut sum);
        }
        let norm = (self.sampled() as f64 + 1.0).log2();
        sum / self.trees.len() as f64 * norm
    }

    /// Offers the point to every tree's reservoir; accepted points go into that tree.
    ///
    /// A point's key is `ln(E) - λ t` with `E = -ln u` exponential; the smallest keys are kept,
    /// so newer points are favoured. Once a sample is full, most points are refused, and two
    /// logarithms per tree per point were most of the cost: the test is made on `E` against
    /// `exp(largest kept key + λ t)` instead (cached per tree, it grows by `e^λ` per point), and
    /// since `E ≥ 1 - u`, a point with `1 - u` past the limit is refused with no logarithm.
    pub fn update(&mut self, point: &[f64]) {
        debug_assert_eq!(point.len(), self.dim);
        self.seq += 1;
        let cap = self.config.sample_size;
        let now = self.decay * self.seq as f64;
        if self.limits.len() != self.trees.len() {
            // a deserialised forest: rebuild the cache from the samples
            self.limits = self
                .samples
                .iter()
                .map(|h| h.first().map_or(f64::INFINITY, |&(k, _)| (k + now).exp()))
                .collect();
        }
        let growth = self.decay.exp();
        for ti in 0..self.trees.len() {
            let u = self.rng.next_f64().max(f64::MIN_POSITIVE);
            let full = self.samples[ti].len() >= cap;
            if full {
                let limit = self.limits[ti] * growth;
                self.limits[ti] = limit;
                if 1.0 - u >= limit {
                    continue;
                }
            }
            let e = -(u.ln());
            if full && e >= self.limits[ti] {
                continue;
            }
            let key = e.ln() - now;
            let sample = &mut self.samples[ti];
            if full {
                let (_, old) = heap_pop(sample);
                self.trees[ti].delete(old);
            }
            let leaf = self.trees[ti].insert(point, &mut self.rng);
            heap_push(sample, (key, leaf));
            self.limits[ti] = (sample[0].0 + now).exp();
        }
    }
}

fn heap_push(h: &mut Vec<(f64, u32)>, item: (f64, u32)) {
    h.push(item);
    let mut i = h.len() - 1;
    while i > 0 {
        let p = (i - 1) / 2;
        if h[p].0 >= h[i].0 {
            break;
        }
        h.swap(p, i);
        i = p;
    }
}

fn heap_pop(h: &mut Vec<(f64, u32)>) -> (f64, u32) {
    let top = h.swap_remove(0);
    let n = h.len();
    let mut i = 0;
    loop {
        let (l, r) = (2 * i + 1, 2 * i + 2);
        let mut m = i;
        if l < n && h[l].0 > h[m].0 {
            m = l;
        }
        if r < n && h[r].0 > h[m].0 {
            m = r;
        }
        if m == i {
            break;
        }
        h.swap(i, m);
        i = m;
    }
    top
}

/// Streaming RCF detector: shingles the values, scores each point before learning it, and calls
/// it anomalous when its score is above mean + k × std-dev of the scores seen so far (the RCF
/// metric scorer's rule, applied online). The band shown beside it comes from a seasonal band.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RcfDetector {
    forest: RandomCutForest,
    shingle: Vec<f64>,
    scores: EwStats,
    k: f64,
    band: BandDetector,
    warmup: usize,
}

impl RcfDetector {
    pub fn new(config: &RcfConfig, band: &BandConfig) -> Result<Self, DetectError> {
        Ok(RcfDetector {
            forest: RandomCutForest::new(config, config.shingle)?,
            shingle: Vec::with_capacity(config.shingle),
            scores: EwStats::new(1e9),
            k: config.cutoff_k,
            band: BandDetector::new(band)?,
            warmup: config.sample_size.min(64),
        })
    }

    /// The raw forest score of the latest shingle, or `None` before the shingle is full.
    fn step(&mut self, value: f64) -> Option<f64> {
        let s = self.forest.dim;
        if self.shingle.len() == s {
            self.shingle.remove(0);
        }
        self.shingle.push(saturate(value));
        if self.shingle.len() < s {
            return None;
        }
        let score = self.forest.score(&self.shingle);
        self.forest.update(&self.shingle);
        Some(score)
    }
}

impl Detector for RcfDetector {
    fn observe(&mut self, timestamp: Timestamp, value: f64) -> Result<Verdict, DetectError> {
        check_finite(timestamp, value)?;
        let ready = self.forest.sampled() >= self.warmup;
        let raw = self.step(value);
        let band_verdict = self.band.observe(timestamp, value)?;
        let (score, anomalous) = match raw {
            Some(r) if ready && self.scores.n >= 2 => {
                let sd = self.scores.std().max(1e-12);
                let z = (r - self.scores.mean) / sd;
                (1.0 - normal_tail(z), r > self.scores.mean + self.k * sd)
            }
            _ => (0.0, false),
        };
        if let Some(r) = raw {
            self.scores.update(r);
        }
        // a band the seasonal model does not know yet stays empty
        let band = if ready { band_verdict.band } else { None };
        Ok(Verdict {
            timestamp,
            value,
            band,
            score: score.clamp(0.0, 1.0),
            anomalous,
        })
    }

    fn predict(&self, timestamp: Timestamp) -> Option<Band> {
        self.band.predict(timestamp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rcf_metric_scorer_cutoff_is_mean_plus_k_population_std() {
        let s = [1.0, 1.0, 1.0, 1.0, 6.0];
        // mean 2, population std 2
        assert!((batch_cutoff(&s, 2.0) - 6.0).abs() < 1e-12);
        // strictly above: 6.0 is not above 6.0
        assert_eq!(anomaly_indicators(&s, 2.0), vec![0.0; 5]);
        assert_eq!(anomaly_indicators(&s, 1.0), vec![0.0, 0.0, 0.0, 0.0, 1.0]);
    }

    #[test]
    fn forest_keeps_its_sample_size_and_consistent_masses() {
        let cfg = RcfConfig {
            trees: 5,
            sample_size: 32,
            shingle: 2,
            ..RcfConfig::default()
        };
        let mut f = RandomCutForest::new(&cfg, 2).unwrap();
        let mut rng = Rng::new(1);
        for i in 0..2000 {
            // few distinct points: most insertions are duplicates
            let p = [(i % 7) as f64, (rng.next_f64() * 3.0).floor()];
            f.score(&p);
            f.update(&p);
        }
        assert_eq!(f.sampled(), 32);
        for t in &f.trees {
            assert_eq!(t.node_mass(t.root), 32);
            let mut stack = vec![t.root];
            while let Some(r) = stack.pop() {
                if r & LEAF == 0 {
                    let n = t.nodes[r as usize];
                    assert_eq!(n.mass, t.node_mass(n.left) + t.node_mass(n.right));
                    stack.extend([n.left, n.right]);
                }
            }
        }
    }

    /// Deletion stops recomputing boxes where one did not change: every cached box must still
    /// be exactly the union of its children's.
    #[test]
    fn cached_boxes_stay_exact_through_insertions_and_deletions() {
        let cfg = RcfConfig {
            trees: 4,
            sample_size: 48,
            shingle: 3,
            ..RcfConfig::default()
        };
        let mut f = RandomCutForest::new(&cfg, 3).unwrap();
        let mut rng = Rng::new(5);
        for i in 0..5000 {
            let p = [rng.next_f64(), (i % 11) as f64, rng.next_f64() * 100.0];
            f.score(&p);
            f.update(&p);
        }
        for t in &f.trees {
            let mut stack = vec![t.root];
            while let Some(r) = stack.pop() {
                if r & LEAF != 0 {
                    continue;
                }
                let n = t.nodes[r as usize];
                for i in 0..3 {
                    let (llo, lhi) = t.extent(n.left, i);
                    let (rlo, rhi) = t.extent(n.right, i);
                    assert_eq!(
                        t.extent(r, i),
                        (llo.min(rlo), lhi.max(rhi)),
                        "node {r} dim {i}"
                    );
                }
                stack.extend([n.left, n.right]);
            }
        }
    }

    /// One value goes through shortcuts (no loop over dimensions); a second coordinate that is
    /// always 0 is never cut and adds nothing to any box, so the general path must give the
    /// same scores to the last bit.
    #[test]
    fn one_value_shortcuts_score_as_the_general_path() {
        let cfg = RcfConfig {
            trees: 12,
            sample_size: 64,
            ..RcfConfig::default()
        };
        let mut one = RandomCutForest::new(&cfg, 1).unwrap();
        let mut two = RandomCutForest::new(&cfg, 2).unwrap();
        let mut rng = Rng::new(9);
        for i in 0..4000 {
            // a wave with noise, repeated values and now and then a spike
            let v = (i as f64 / 40.0).sin() * 10.0
                + if i % 97 == 0 { 50.0 } else { 0.0 }
                + if i % 5 == 0 { 0.0 } else { rng.next_f64() };
            let (a, b) = (one.score(&[v]), two.score(&[v, 0.0]));
            assert_eq!(a.to_bits(), b.to_bits(), "point {i}: {a} vs {b}");
            one.update(&[v]);
            two.update(&[v, 0.0]);
        }
    }

    /// A state saved before the duplicate fix held ancestors' masses counted twice for each
    /// repeated point; loaded, the tree's masses are its leaves' again, and the forest scores
    /// as one that never had the old count.
    #[test]
    fn a_loaded_forest_recounts_its_masses() {
        let mut f = RandomCutForest::new(&RcfConfig::default(), 1).unwrap();
        for i in 0..1000 {
            f.update(&[(i % 5) as f64]);
        }
        let want = f.score(&[2.0]);
        let mut json = serde_json::to_value(&f).unwrap();
        // the old count: every internal node's mass inflated
        for tree in json["trees"].as_array_mut().unwrap() {
            for node in tree["nodes"].as_array_mut().unwrap() {
                let m = node["mass"].as_u64().unwrap();
                node["mass"] = (m + 40).into();
            }
        }
        let mut g: RandomCutForest = serde_json::from_value(json).unwrap();
        for t in &g.trees {
            assert_eq!(t.node_mass(t.root), 100);
        }
        assert_eq!(g.score(&[2.0]).to_bits(), want.to_bits());
    }

    /// rcflib scores a point equal to a leaf's as `damp(leaf mass, tree mass) × score_seen`,
    /// with `damp(m, n) = 1 - m / (2n)`: a sample that is all one value gives that value
    /// (1 - 1/2) / log2(n + 1) per tree, 1/2 once normalised, where undamped it would be 1.
    #[test]
    fn a_value_seen_before_is_damped_by_its_share_of_the_sample() {
        let mut f = RandomCutForest::new(&RcfConfig::default(), 1).unwrap();
        for _ in 0..500 {
            f.update(&[7.0]);
        }
        assert_eq!(f.sampled(), 100);
        assert!((f.score(&[7.0]) - 0.5).abs() < 1e-12, "{}", f.score(&[7.0]));
        // half the sample one value, half another: the leaf holds 50 of 100 copies at depth 1
        let mut g = RandomCutForest::new(&RcfConfig::default(), 1).unwrap();
        for i in 0..2000 {
            g.update(&[if i % 2 == 0 { 1.0 } else { 2.0 }]);
        }
        let n = g.sampled() as f64;
        for t in &g.trees {
            // a duplicate adds one to each ancestor's mass, once
            assert_eq!(t.node_mass(t.root), 100);
            let l = t.nodes[t.root as usize].left & !LEAF;
            let m = t.leaf_mass[l as usize] as f64;
            let want = (1.0 - m / (2.0 * n)) / (1.0 + (m + 1.0).log2());
            let got = t.score_from(&[1.0], l | LEAF, t.root, 1);
            assert!((got - want).abs() < 1e-12, "{got} vs {want}");
        }
    }

    #[test]
    fn outlier_scores_higher_than_inliers() {
        let mut f = RandomCutForest::new(&RcfConfig::default(), 1).unwrap();
        let mut rng = Rng::new(3);
        for _ in 0..1000 {
            f.update(&[rng.next_f64()]);
        }
        let inlier = f.score(&[0.5]);
        let outlier = f.score(&[25.0]);
        assert!(outlier > 2.0 * inlier, "{outlier} vs {inlier}");
    }
}
