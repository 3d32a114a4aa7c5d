//! The last clean recovery point of a volume: the recovery point taken just before the first
//! anomalous count of the latest episode of anomalous counts.
//!
//! Not merely the point before the newest anomalous count: a slow encryption rewrites a volume
//! over several backups, so every recovery point from the first anomalous count onwards may
//! already hold encrypted blocks. An episode is a run of anomalous counts in which at most
//! [`EPISODE_GAP`] normal count sits between two anomalous ones, because a count inside a slow
//! encryption can fall back inside the band for one backup (a quiet night) without the volume
//! being clean again; restoring too early loses a little data, restoring too late restores the
//! damage.
//!
//! Pure: the callers (the volume view, `scan`, the backup processor's alert) map their own
//! series onto the flags and the answer back onto their recovery points.

/// Normal counts allowed between two anomalous counts of the same episode.
pub const EPISODE_GAP: usize = 1;

/// `anomalous[i]` says whether the count that *ends* at recovery point `i` (the change between
/// points `i - 1` and `i`, oldest first) is anomalous; point 0 has no count and is never
/// anomalous whatever the slice says. Returns the index of the last clean recovery point, or
/// `None` when no count is anomalous.
pub fn last_clean(anomalous: &[bool]) -> Option<usize> {
    let last = (1..anomalous.len()).rev().find(|&i| anomalous[i])?;
    let mut first = last;
    let mut i = last;
    // Walk back over the episode: anomalous counts separated by at most EPISODE_GAP normal ones.
    loop {
        let lower = i.saturating_sub(EPISODE_GAP + 1).max(1);
        match (lower..i).rev().find(|&j| anomalous[j]) {
            Some(j) => {
                first = j;
                i = j;
            }
            None => break,
        }
    }
    Some(first - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(s: &str) -> Vec<bool> {
        s.chars().map(|c| c == 'X').collect()
    }

    #[test]
    fn no_anomaly_no_answer() {
        assert_eq!(last_clean(&[]), None);
        assert_eq!(last_clean(&flags("....")), None);
        // Point 0 has no count: a flag there is ignored.
        assert_eq!(last_clean(&flags("X...")), None);
    }

    #[test]
    fn a_single_burst_points_at_the_previous_point() {
        assert_eq!(last_clean(&flags("....X")), Some(3));
        assert_eq!(last_clean(&flags("..X..")), Some(1));
    }

    #[test]
    fn a_slow_encryption_goes_back_to_the_first_anomalous_count() {
        // Three anomalous backups in a row: the last clean point is before the first of them.
        assert_eq!(last_clean(&flags("....XXX")), Some(3));
        // One quiet backup inside the episode does not make the volume clean again.
        assert_eq!(last_clean(&flags("...XX.X")), Some(2));
    }

    #[test]
    fn a_longer_gap_starts_a_new_episode() {
        // Two normal counts between bursts: the newest episode is the one that matters.
        assert_eq!(last_clean(&flags(".X..X")), Some(3));
        assert_eq!(last_clean(&flags(".XX...XX.")), Some(5));
    }

    #[test]
    fn an_episode_from_the_first_count_has_no_clean_point_after_point_zero() {
        // The first count is already anomalous: point 0 is the only clean one known.
        assert_eq!(last_clean(&flags(".XXX")), Some(0));
        assert_eq!(last_clean(&flags(".X.X")), Some(0));
    }
}
