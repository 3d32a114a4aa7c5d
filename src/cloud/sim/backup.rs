//! AWS Backup in the simulated account: the EBS volumes, their recovery points (daily at 05:00
//! UTC by the changed-block pipeline's plan, plus on-demand jobs), backup jobs and the plan/selection,
//! legal holds, and restore jobs that create new volumes.
//!
//! Recovery points are not stored: a volume's scheduled snapshots are a function of its
//! parameters and the clock, and only on-demand snapshots and injected bursts are kept, so
//! 10,000 volumes × 365 days cost a few hundred bytes per volume. Snapshot ids encode
//! (volume, sequence) through a keyed bijection, so an id maps back to its volume without a
//! lookup table and ids still look like AWS's `snap-0…` (17 hex digits).

use super::clock::{DAY_MS, HOUR_MS, MINUTE_MS, SECOND_MS};
use super::rng::{hash, unit};
use crate::cloud::{BackupJob, BackupJobState, RestoreJob, RestoreJobState};

/// Sequence numbers at or above this are on-demand snapshots; below, the scheduled day index.
pub const EXTRA_SEQ: u32 = 1 << 31;
pub const DEFAULT_VAULT: &str = "Default";
pub const BACKUP_ROLE: &str = "service-role/AWSBackupDefaultServiceRole";

/// One snapshot of a volume: created when the job started, completed when it finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Snap {
    pub seq: u32,
    pub created: i64,
    pub completed: i64,
}

/// One EBS volume and the parameters its change series is generated from.
#[derive(Debug, Clone)]
pub struct Volume {
    pub idx: u32,
    pub id: String,
    pub arn: String,
    pub name: String,
    pub size_gib: i64,
    /// Share of the volume's blocks that hold data.
    pub used_frac: f64,
    /// Typical share of the used blocks changed per weekday.
    pub rate: f64,
    /// Weekend activity relative to weekdays.
    pub weekend: f64,
    /// Relative growth of the change rate per year.
    pub growth: f64,
    /// Log-normal noise of the daily change rate.
    pub noise: f64,
    /// First day (days since the Unix epoch) with a scheduled backup.
    pub first_day: i64,
    /// On-demand snapshots, in creation order.
    pub extra: Vec<Snap>,
    /// Times at which an encryption burst rewrote most of the volume.
    pub bursts: Vec<i64>,
    /// Completed snapshots up to this time have been seen by the deployed function.
    pub processed_until: i64,
    /// The deployed function has seen this volume (its alarm exists).
    pub seen: bool,
}

/// An on-demand backup job.
#[derive(Debug, Clone)]
pub struct Job {
    pub id: String,
    pub resource_arn: String,
    pub vault: String,
    pub volume: Option<u32>,
    pub created: i64,
    pub running_at: i64,
    pub ends_at: i64,
    /// The snapshot it produces, or why it fails.
    pub outcome: Result<u32, String>,
    pub idempotency_token: Option<String>,
}

/// A legal hold on the recovery points of one resource created in `[from, to]`.
#[derive(Debug, Clone)]
pub struct Hold {
    pub id: String,
    pub title: String,
    pub resource_arn: String,
    pub vault: String,
    pub from: i64,
    pub to: i64,
    pub created: i64,
    pub idempotency_token: Option<String>,
}

/// A restore job: a recovery point becoming a new volume. Like backup jobs, its whole course
/// is fixed when it starts and every answer reads it against the clock.
#[derive(Debug, Clone)]
pub struct Restore {
    pub id: String,
    pub recovery_point_arn: String,
    pub created: i64,
    pub running_at: i64,
    pub ends_at: i64,
    /// The new volume's ARN, or why the job fails.
    pub outcome: Result<String, String>,
    pub idempotency_token: Option<String>,
}

/// Everything AWS Backup knows in the simulated account.
#[derive(Debug, Clone)]
pub struct BackupState {
    pub seed: u64,
    pub account: String,
    pub region: String,
    /// Day index 0 of scheduled sequence numbers.
    pub day0: i64,
    pub volumes: Vec<Volume>,
    pub jobs: Vec<Job>,
    pub holds: Vec<Hold>,
    pub restores: Vec<Restore>,
    pub plan_id: String,
    pub selection_id: String,
    /// Earliest time at which some volume completes a snapshot not yet processed.
    pub next_due: i64,
    snap_key: u64,
}

/// Where a job whose course was fixed when it started (backup and restore jobs alike) stands
/// at `now`: waiting to run, running (its percent done, at most 99 until it ends), or ended.
enum Phase {
    Waiting,
    Running(f64),
    Ended,
}

impl Phase {
    fn at(running_at: i64, ends_at: i64, now: i64) -> Phase {
        if now < running_at {
            Phase::Waiting
        } else if now < ends_at {
            let p = (now - running_at) as f64 / (ends_at - running_at).max(1) as f64;
            Phase::Running((p * 100.0).floor().clamp(0.0, 99.0))
        } else {
            Phase::Ended
        }
    }
}

/// The scheduled snapshot of a volume on day `day`.
pub fn scheduled(seed: u64, vol: &Volume, day0: i64, day: i64) -> Snap {
    let h = hash(&[seed, 0x5c4e, u64::from(vol.idx), day as u64]);
    let created = day * DAY_MS + 5 * HOUR_MS + (unit(h) * 15.0 * MINUTE_MS as f64) as i64;
    let size_factor = (vol.size_gib as f64 / 2048.0).sqrt();
    let duration = 2 * MINUTE_MS
        + (unit(h >> 7) * 4.0 * MINUTE_MS as f64) as i64
        + (size_factor * 6.0 * MINUTE_MS as f64) as i64;
    Snap {
        seq: (day - day0) as u32,
        created,
        completed: created + duration,
    }
}

impl BackupState {
    pub fn new(seed: u64, account: &str, region: &str, day0: i64) -> Self {
        BackupState {
            seed,
            account: account.to_string(),
            region: region.to_string(),
            day0,
            volumes: Vec::new(),
            jobs: Vec::new(),
            holds: Vec::new(),
            restores: Vec::new(),
            plan_id: uuid_from(hash(&[seed, 0x91a4])),
            selection_id: uuid_from(hash(&[seed, 0x5e1e])),
            next_due: i64::MIN,
            snap_key: hash(&[seed, 0x51a9]),
        }
    }

    pub fn role_arn(&self) -> String {
        format!("arn:aws:iam::{}:role/{BACKUP_ROLE}", self.account)
    }

    pub fn known_role(&self, arn: &str) -> bool {
        arn == self.role_arn()
            || arn
                == format!(
                    "arn:aws:iam::{}:role/AWSBackupDefaultServiceRole",
                    self.account
                )
    }

    // ------------------------------------------------------------ snapshot ids

    pub fn snapshot_id(&self, vol: u32, seq: u32) -> String {
        let x = (u64::from(vol) << 32) | u64::from(seq);
        format!("snap-0{:016x}", permute(x ^ self.snap_key))
    }

    pub fn snapshot_arn(&self, vol: u32, seq: u32) -> String {
        format!(
            "arn:aws:ec2:{}::snapshot/{}",
            self.region,
            self.snapshot_id(vol, seq)
        )
    }

    /// (volume index, sequence) of a snapshot id this account issued, without checking that the
    /// snapshot exists yet.
    pub fn decode_snapshot(&self, id: &str) -> Option<(u32, u32)> {
        let hex = id.strip_prefix("snap-0")?;
        if hex.len() != 16 {
            return None;
        }
        let y = u64::from_str_radix(hex, 16).ok()?;
        let x = unpermute(y) ^ self.snap_key;
        let (vol, seq) = ((x >> 32) as u32, x as u32);
        ((vol as usize) < self.volumes.len()).then_some((vol, seq))
    }

    pub fn volume_by_arn(&self, arn: &str) -> Option<&Volume> {
        let id = crate::interop::volume_id_in(arn)?;
        // Volume ids are unique; a linear scan is fine for the default world and the id index
        // below keeps big worlds fast.
        self.volume_index(id).map(|i| &self.volumes[i])
    }

    pub fn volume_index(&self, id: &str) -> Option<usize> {
        let hex = id.strip_prefix("vol-0")?;
        let y = u64::from_str_radix(hex, 16).ok()?;
        let i = (unpermute(y) ^ self.snap_key ^ 0x0f0f) as usize;
        (i < self.volumes.len() && self.volumes[i].id == id).then_some(i)
    }

    /// The volume id for index `i` (keyed like snapshot ids so ids decode without a table).
    pub fn volume_id_for(&self, i: u32) -> String {
        format!(
            "vol-0{:016x}",
            permute(u64::from(i) ^ 0x0f0f ^ self.snap_key)
        )
    }

    // ------------------------------------------------------------ snapshots

    /// Every snapshot of volume `v` created at or before `upto_created`, completed or not,
    /// oldest first.
    pub fn timeline(&self, v: u32, upto_created: i64) -> Vec<Snap> {
        let vol = &self.volumes[v as usize];
        let last_day = upto_created.div_euclid(DAY_MS);
        let mut out = Vec::with_capacity((last_day - vol.first_day + 2).max(0) as usize);
        let mut extra = vol
            .extra
            .iter()
            .filter(|s| s.created <= upto_created)
            .peekable();
        for day in vol.first_day..=last_day {
            let s = scheduled(self.seed, vol, self.day0, day);
            if s.created > upto_created {
                break;
            }
            while let Some(e) = extra.next_if(|e| e.created < s.created) {
                out.push(*e);
            }
            out.push(s);
        }
        out.extend(extra.copied());
        out
    }

    /// Completed snapshots of volume `v` as of `now`, oldest first.
    pub fn completed(&self, v: u32, now: i64) -> Vec<Snap> {
        let mut t = self.timeline(v, now);
        t.retain(|s| s.completed <= now);
        t
    }

    /// The newest completed snapshot of volume `v` as of `now`, in O(1) for scheduled ones.
    pub fn latest_completed(&self, v: u32, now: i64) -> Option<Snap> {
        let vol = &self.volumes[v as usize];
        let d = now.div_euclid(DAY_MS);
        let mut best: Option<Snap> = None;
        for day in [d, d - 1, d - 2] {
            if day < vol.first_day {
                continue;
            }
            let s = scheduled(self.seed, vol, self.day0, day);
            if s.completed <= now {
                best = Some(s);
                break;
            }
        }
        for e in &vol.extra {
            if e.completed <= now && best.is_none_or(|b| e.created > b.created) {
                best = Some(*e);
            }
        }
        best
    }

    /// The snapshot with sequence `seq` of volume `v`, if it exists (completed or not).
    pub fn snap(&self, v: u32, seq: u32) -> Option<Snap> {
        let vol = &self.volumes[v as usize];
        if seq >= EXTRA_SEQ {
            vol.extra.iter().find(|s| s.seq == seq).copied()
        } else {
            let day = self.day0 + i64::from(seq);
            (day >= vol.first_day).then(|| scheduled(self.seed, vol, self.day0, day))
        }
    }

    /// The next completion strictly after `t` for volume `v` (scheduled or on-demand).
    pub fn next_completion_after(&self, v: u32, t: i64) -> i64 {
        let vol = &self.volumes[v as usize];
        let d = t.div_euclid(DAY_MS);
        let mut best = i64::MAX;
        for day in (d - 1)..=(d + 1) {
            if day < vol.first_day {
                continue;
            }
            let s = scheduled(self.seed, vol, self.day0, day);
            if s.completed > t {
                best = best.min(s.completed);
            }
        }
        if best == i64::MAX {
            // Past the three days checked: the first scheduled backup after day d + 1.
            let day = (d + 2).max(vol.first_day);
            best = scheduled(self.seed, vol, self.day0, day).completed;
        }
        for e in &vol.extra {
            if e.completed > t {
                best = best.min(e.completed);
            }
        }
        best
    }

    // ------------------------------------------------------------ jobs

    pub fn job_view(&self, job: &Job, now: i64) -> BackupJob {
        let (state, pct, msg) = match Phase::at(job.running_at, job.ends_at, now) {
            Phase::Waiting => (BackupJobState::Created, 0.0, None),
            Phase::Running(pct) => (BackupJobState::Running, pct, None),
            Phase::Ended => match &job.outcome {
                Ok(_) => (BackupJobState::Completed, 100.0, None),
                Err(reason) => (BackupJobState::Failed, 0.0, Some(reason.clone())),
            },
        };
        let recovery_point_arn = match (&job.outcome, state) {
            (Ok(seq), BackupJobState::Completed) => job.volume.map(|v| self.snapshot_arn(v, *seq)),
            _ => None,
        };
        BackupJob {
            id: job.id.clone(),
            state,
            percent_done: pct,
            status_message: msg,
            resource_arn: job.resource_arn.clone(),
            vault: job.vault.clone(),
            recovery_point_arn,
            created: super::clock::to_time(job.created),
            completed: state
                .is_terminal()
                .then(|| super::clock::to_time(job.ends_at)),
        }
    }

    /// Starts an on-demand job at `now`: the snapshot it will produce is recorded right away
    /// with its future completion time, so every listing simply filters by the clock.
    #[allow(clippy::too_many_arguments)]
    pub fn start_job(
        &mut self,
        id: String,
        v: Option<u32>,
        resource_arn: &str,
        vault: &str,
        role_ok: bool,
        vault_ok: bool,
        now: i64,
        token: Option<String>,
    ) -> String {
        let h = hash(&[self.seed, 0x10b5, self.jobs.len() as u64]);
        let running_at = now + 20 * SECOND_MS + (unit(h) * 40.0 * SECOND_MS as f64) as i64;
        let outcome: Result<u32, String>;
        let ends_at;
        if !vault_ok {
            ends_at = running_at + MINUTE_MS;
            outcome = Err(format!(
                "Backup vault {vault} does not exist or cannot be accessed; create it or choose an existing vault"
            ));
        } else if !role_ok {
            ends_at = running_at + 90 * SECOND_MS;
            outcome = Err(
                "Insufficient privileges: AWS Backup could not assume the IAM role given for the job; check the role ARN and its trust policy"
                    .to_string(),
            );
        } else if let Some(v) = v {
            let vol = &mut self.volumes[v as usize];
            let size_factor = (vol.size_gib as f64 / 2048.0).sqrt();
            ends_at = running_at
                + 2 * MINUTE_MS
                + (unit(h >> 9) * 3.0 * MINUTE_MS as f64) as i64
                + (size_factor * 6.0 * MINUTE_MS as f64) as i64;
            let seq = EXTRA_SEQ + vol.extra.len() as u32;
            vol.extra.push(Snap {
                seq,
                created: now,
                completed: ends_at,
            });
            self.next_due = self.next_due.min(ends_at);
            outcome = Ok(seq);
        } else {
            ends_at = running_at + MINUTE_MS;
            outcome = Err(format!("Resource {resource_arn} was not found"));
        }
        self.jobs.push(Job {
            id: id.clone(),
            resource_arn: resource_arn.to_string(),
            vault: vault.to_string(),
            volume: v,
            created: now,
            running_at,
            ends_at,
            outcome,
            idempotency_token: token,
        });
        id
    }
}

impl BackupState {
    /// The availability zone volume `v` lives in (one of the region's first three).
    pub fn availability_zone(&self, v: u32) -> String {
        let zone = b"abc"[(hash(&[self.seed, 0xa2, u64::from(v)]) % 3) as usize] as char;
        format!("{}{zone}", self.region)
    }

    /// Whether a legal hold covers the recovery point of volume `v` created at `created`.
    pub fn is_held(&self, v: u32, created: i64) -> bool {
        let arn = &self.volumes[v as usize].arn;
        self.holds
            .iter()
            .any(|h| &h.resource_arn == arn && h.from <= created && created <= h.to)
    }

    /// Starts restoring a recovery point of a `size_gib` volume at `now`: `outcome` is the new
    /// volume's id, or why the job fails. Creating a volume from a snapshot takes AWS Backup a
    /// few minutes, longer for bigger volumes.
    pub fn start_restore(
        &mut self,
        id: String,
        recovery_point_arn: &str,
        size_gib: i64,
        outcome: Result<String, String>,
        now: i64,
        token: Option<String>,
    ) -> String {
        let h = hash(&[self.seed, 0x7e57, self.restores.len() as u64]);
        let running_at = now + 10 * SECOND_MS + (unit(h) * 20.0 * SECOND_MS as f64) as i64;
        let size_factor = (size_gib as f64 / 2048.0).sqrt();
        let ends_at = match outcome {
            Err(_) => running_at + 30 * SECOND_MS,
            Ok(_) => {
                running_at
                    + 3 * MINUTE_MS
                    + (unit(h >> 11) * 2.0 * MINUTE_MS as f64) as i64
                    + (size_factor * 8.0 * MINUTE_MS as f64) as i64
            }
        };
        let outcome =
            outcome.map(|new| format!("arn:aws:ec2:{}:{}:volume/{new}", self.region, self.account));
        self.restores.push(Restore {
            id: id.clone(),
            recovery_point_arn: recovery_point_arn.to_string(),
            created: now,
            running_at,
            ends_at,
            outcome,
            idempotency_token: token,
        });
        id
    }

    pub fn restore_view(&self, r: &Restore, now: i64) -> RestoreJob {
        let (state, pct) = match Phase::at(r.running_at, r.ends_at, now) {
            Phase::Waiting => (RestoreJobState::Pending, 0.0),
            Phase::Running(pct) => (RestoreJobState::Running, pct),
            Phase::Ended if r.outcome.is_ok() => (RestoreJobState::Completed, 100.0),
            Phase::Ended => (RestoreJobState::Failed, 0.0),
        };
        RestoreJob {
            id: r.id.clone(),
            state,
            percent_done: pct,
            status_message: match (&r.outcome, state) {
                (Err(reason), RestoreJobState::Failed) => Some(reason.clone()),
                _ => None,
            },
            recovery_point_arn: r.recovery_point_arn.clone(),
            created_resource_arn: match (&r.outcome, state) {
                (Ok(arn), RestoreJobState::Completed) => Some(arn.clone()),
                _ => None,
            },
            expected_minutes: Some(
                ((r.ends_at - r.created) as f64 / MINUTE_MS as f64).ceil() as i64
            ),
            created: super::clock::to_time(r.created),
            completed: state
                .is_terminal()
                .then(|| super::clock::to_time(r.ends_at)),
        }
    }
}

/// A UUID-shaped string from a hash.
pub fn uuid_from(h: u64) -> String {
    let mut r = super::rng::Rng::from_state(h);
    r.uuid()
}

// A keyed-free 64-bit bijection (xor-shift-multiply); shifts ≥ 32 make each xor-shift its own
// inverse, and the multipliers are odd so they have inverses mod 2^64.
const M1: u64 = 0xff51_afd7_ed55_8ccd;
const M2: u64 = 0xc4ce_b9fe_1a85_ec53;

fn permute(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(M1);
    x ^= x >> 33;
    x = x.wrapping_mul(M2);
    x ^= x >> 33;
    x
}

fn inverse(m: u64) -> u64 {
    let mut inv = m;
    for _ in 0..6 {
        inv = inv.wrapping_mul(2u64.wrapping_sub(m.wrapping_mul(inv)));
    }
    inv
}

fn unpermute(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(inverse(M2));
    x ^= x >> 33;
    x = x.wrapping_mul(inverse(M1));
    x ^= x >> 33;
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permutation_round_trips() {
        for x in [0u64, 1, 42, u64::MAX, 0x1234_5678_9abc_def0] {
            assert_eq!(unpermute(permute(x)), x);
        }
    }
}
