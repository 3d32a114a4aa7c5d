//! The EBS direct API's view of the simulated volumes: which blocks each snapshot holds and
//! which changed between two snapshots, generated deterministically on demand and never stored.
//!
//! The block space is cut into chunks of 65,536 blocks (32 GiB). For one snapshot step the
//! number of changed blocks in each chunk is a cheap function of (volume, snapshot, chunk), so
//! a step's count costs O(chunks) — that is what the deployed function's metric series is made
//! of. Listing draws exactly that many distinct blocks per chunk into a bitset from a PRNG
//! seeded by (volume, snapshot, chunk), so a page can start anywhere and the pages agree with
//! the count, whatever MaxResults is.

use super::backup::{BackupState, Snap, Volume};
use super::clock::DAY_MS;
use super::rng::{Rng, hash, unit};

pub const BLOCK_SIZE: i32 = 524_288;
pub const BLOCKS_PER_GIB: i64 = 2048;
pub const CHUNK: i64 = 65_536;
pub const MIN_RESULTS: i32 = 100;
pub const MAX_RESULTS: i32 = 10_000;

/// What one snapshot step wrote.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum StepKind {
    /// The first snapshot of a volume: every written block.
    Full,
    /// An ordinary step: this share of the used blocks, spread over hot spots.
    Normal(f64),
    /// An encryption burst: this share of every block of the volume.
    Burst(f64),
}

/// One snapshot step of one volume.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Step {
    pub vol: u32,
    pub seq: u32,
    pub kind: StepKind,
}

fn total_blocks(vol: &Volume) -> i64 {
    vol.size_gib * BLOCKS_PER_GIB
}

fn chunks(vol: &Volume) -> i64 {
    (total_blocks(vol) + CHUNK - 1) / CHUNK
}

fn used_chunks(vol: &Volume) -> i64 {
    ((total_blocks(vol) as f64 * vol.used_frac) as i64 + CHUNK - 1) / CHUNK
}

fn chunk_size(vol: &Volume, c: i64) -> i64 {
    (total_blocks(vol) - c * CHUNK).clamp(0, CHUNK)
}

/// The step that produced snapshot `snap`, given the snapshot before it.
pub fn step_of(seed: u64, vol: &Volume, snap: Snap, prev: Option<Snap>) -> Step {
    let Some(prev) = prev else {
        return Step {
            vol: vol.idx,
            seq: snap.seq,
            kind: StepKind::Full,
        };
    };
    let h = hash(&[seed, 0xeb5, u64::from(vol.idx), u64::from(snap.seq)]);
    if vol
        .bursts
        .iter()
        .any(|b| *b > prev.created && *b <= snap.created)
    {
        return Step {
            vol: vol.idx,
            seq: snap.seq,
            kind: StepKind::Burst(0.6 + 0.35 * unit(h)),
        };
    }
    let day = snap.created.div_euclid(DAY_MS);
    // 1970-01-01 was a Thursday: (day + 3) % 7 gives Monday = 0.
    let weekday = (day + 3).rem_euclid(7);
    let season = if weekday >= 5 { vol.weekend } else { 1.0 };
    let age_years = (day - vol.first_day).max(0) as f64 / 365.0;
    let mut r = Rng::from_state(h);
    let noise = (vol.noise * r.normal()).exp();
    let elapsed = ((snap.created - prev.created) as f64 / DAY_MS as f64).clamp(0.01, 3.0);
    let frac = (vol.rate * season * (1.0 + vol.growth * age_years) * noise * elapsed).min(0.5);
    Step {
        vol: vol.idx,
        seq: snap.seq,
        kind: StepKind::Normal(frac),
    }
}

/// How many blocks of chunk `c` the step wrote.
fn chunk_count(seed: u64, vol: &Volume, step: &Step, c: i64) -> i64 {
    let size = chunk_size(vol, c);
    match step.kind {
        StepKind::Full => {
            if c >= used_chunks(vol) {
                return 0;
            }
            let fill = 0.55 + 0.45 * unit(hash(&[seed, 0xf111, u64::from(vol.idx), c as u64]));
            (size as f64 * fill).round() as i64
        }
        StepKind::Burst(frac) => (size as f64 * frac).round() as i64,
        StepKind::Normal(frac) => {
            if c >= used_chunks(vol) {
                return 0;
            }
            let u = unit(hash(&[seed, 0x4075, u64::from(vol.idx), c as u64]));
            let hot = 0.4 + 1.8 * u * u;
            let jitter = 0.8
                + 0.4
                    * unit(hash(&[
                        seed,
                        0x1177,
                        u64::from(vol.idx),
                        u64::from(step.seq),
                        c as u64,
                    ]));
            ((size as f64 * frac * hot * jitter).round() as i64).min(size)
        }
    }
}

/// The number of blocks one step wrote: O(chunks), no enumeration.
pub fn step_count(seed: u64, vol: &Volume, step: &Step) -> i64 {
    (0..chunks(vol))
        .map(|c| chunk_count(seed, vol, step, c))
        .sum()
}

/// The blocks of chunk `c` the step wrote, as a bitset over the chunk.
fn chunk_bits(seed: u64, vol: &Volume, step: &Step, c: i64, bits: &mut [u64]) {
    let size = chunk_size(vol, c) as u64;
    let k = chunk_count(seed, vol, step, c) as u64;
    if k == 0 || size == 0 {
        return;
    }
    let mut rng = Rng::from_state(hash(&[
        seed,
        0xb175,
        u64::from(vol.idx),
        u64::from(step.seq),
        c as u64,
    ]));
    if k == size {
        set_prefix(bits, size);
        return;
    }
    // Draw the smaller of the set and its complement by rejection: at most half the chunk is
    // ever drawn, so each draw takes at most two tries on average.
    let invert = k > size / 2;
    let draws = if invert { size - k } else { k };
    let mut mine = vec![0u64; bits.len()];
    let mut n = 0;
    while n < draws {
        let x = rng.below(size);
        let (w, b) = ((x / 64) as usize, x % 64);
        if mine[w] & (1 << b) == 0 {
            mine[w] |= 1 << b;
            n += 1;
        }
    }
    if invert {
        // Complement within the chunk, a word at a time.
        let mut full = vec![0u64; mine.len()];
        set_prefix(&mut full, size);
        for (m, f) in mine.iter_mut().zip(full) {
            *m ^= f;
        }
    }
    for (d, m) in bits.iter_mut().zip(mine) {
        *d |= m;
    }
}

/// Sets bits 0..n of a bitset.
fn set_prefix(bits: &mut [u64], n: u64) {
    let full = (n / 64) as usize;
    for w in &mut bits[..full] {
        *w = !0;
    }
    if !n.is_multiple_of(64) {
        bits[full] |= (1u64 << (n % 64)) - 1;
    }
}

/// A set of blocks: the union of one or more steps of one volume.
pub struct BlockSet<'a> {
    pub seed: u64,
    pub vol: &'a Volume,
    pub steps: Vec<Step>,
}

impl BlockSet<'_> {
    /// The exact size of the set; cheap when it is a single step.
    pub fn count(&self) -> i64 {
        if self.steps.len() == 1 {
            return step_count(self.seed, self.vol, &self.steps[0]);
        }
        let mut n = 0i64;
        let mut bits = vec![0u64; (CHUNK / 64) as usize];
        for c in 0..chunks(self.vol) {
            bits.iter_mut().for_each(|w| *w = 0);
            self.fill(c, &mut bits);
            n += bits.iter().map(|w| i64::from(w.count_ones())).sum::<i64>();
        }
        n
    }

    fn fill(&self, c: i64, bits: &mut [u64]) {
        for s in &self.steps {
            chunk_bits(self.seed, self.vol, s, c, bits);
        }
    }

    /// Up to `max` block indices at or after `from`, ascending, and where the next page starts.
    pub fn page(&self, from: i64, max: usize) -> (Vec<i32>, Option<i64>) {
        let mut out = Vec::with_capacity(max.min(4096));
        let mut bits = vec![0u64; (CHUNK / 64) as usize];
        let n_chunks = chunks(self.vol);
        let mut c = from.max(0) / CHUNK;
        while c < n_chunks {
            let any = self
                .steps
                .iter()
                .any(|s| chunk_count(self.seed, self.vol, s, c) > 0);
            if any {
                bits.iter_mut().for_each(|w| *w = 0);
                self.fill(c, &mut bits);
                let base = c * CHUNK;
                let start = (from - base).max(0) as usize;
                for (wi, &w) in bits.iter().enumerate().skip(start / 64) {
                    let mut w = w;
                    while w != 0 {
                        let b = w.trailing_zeros() as usize;
                        w &= w - 1;
                        let i = wi * 64 + b;
                        if i < start {
                            continue;
                        }
                        let block = base + i as i64;
                        if out.len() == max {
                            return (out, Some(block));
                        }
                        out.push(block as i32);
                    }
                }
            }
            c += 1;
        }
        (out, None)
    }
}

/// The steps between two snapshots of one volume: every snapshot created after `first` up to
/// and including `second` (or all of `second`'s own blocks when there is no first).
pub fn steps_between(b: &BackupState, vol: u32, first: Option<Snap>, second: Snap) -> Vec<Step> {
    let v = &b.volumes[vol as usize];
    let Some(first) = first else {
        return vec![Step {
            vol,
            seq: second.seq,
            kind: StepKind::Full,
        }];
    };
    let timeline = b.timeline(vol, second.created);
    let mut steps = Vec::new();
    let mut prev: Option<Snap> = None;
    for s in timeline {
        if s.created > first.created && s.created <= second.created {
            steps.push(step_of(b.seed, v, s, prev));
        }
        prev = Some(s);
    }
    steps
}

/// The snapshot before `snap` in its volume's lineage.
pub fn previous(b: &BackupState, vol: u32, snap: Snap) -> Option<Snap> {
    let t = b.timeline(vol, snap.created);
    let pos = t.iter().position(|s| s.seq == snap.seq)?;
    pos.checked_sub(1).map(|p| t[p])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn volume(size_gib: i64) -> Volume {
        Volume {
            idx: 0,
            id: "vol-0".into(),
            arn: "arn".into(),
            name: "t".into(),
            size_gib,
            used_frac: 0.7,
            rate: 0.02,
            weekend: 0.4,
            growth: 0.1,
            noise: 0.1,
            first_day: 0,
            extra: vec![],
            bursts: vec![],
            processed_until: 0,
            seen: false,
        }
    }

    #[test]
    fn pages_agree_with_the_count_whatever_the_page_size() {
        let vol = volume(100);
        for kind in [StepKind::Normal(0.03), StepKind::Burst(0.8), StepKind::Full] {
            let set = BlockSet {
                seed: 3,
                vol: &vol,
                steps: vec![Step {
                    vol: 0,
                    seq: 5,
                    kind,
                }],
            };
            let want = set.count();
            for max in [100usize, 777, 10_000] {
                let (mut n, mut from, mut last) = (0i64, 0i64, -1i64);
                loop {
                    let (page, next) = set.page(from, max);
                    assert!(page.len() <= max);
                    for b in &page {
                        assert!(i64::from(*b) > last, "ascending and distinct");
                        last = i64::from(*b);
                    }
                    n += page.len() as i64;
                    match next {
                        Some(f) => from = f,
                        None => break,
                    }
                }
                assert_eq!(n, want, "{kind:?} max {max}");
            }
        }
    }
}
