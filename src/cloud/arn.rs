//! Resource ids inside ARNs and event resources: the `snap-…` and `vol-…` ids at their end.

/// The `snap-...` id at the end of a snapshot ARN or event resource.
pub fn snapshot_id_in(s: &str) -> Option<&str> {
    id_with_prefix(s, "snap-")
}

/// The `vol-...` id at the end of a volume ARN.
pub fn volume_id_in(s: &str) -> Option<&str> {
    id_with_prefix(s, "vol-")
}

fn id_with_prefix<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let start = s.rfind(prefix)?;
    let id = &s[start..];
    let hex = &id[prefix.len()..];
    (!hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit())).then_some(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_found_at_the_end_of_arns() {
        assert_eq!(
            snapshot_id_in("arn:aws:ec2:us-east-1::snapshot/snap-0abc12"),
            Some("snap-0abc12")
        );
        assert_eq!(
            volume_id_in("arn:aws:ec2:us-east-1:123456789012:volume/vol-0ff"),
            Some("vol-0ff")
        );
        assert_eq!(volume_id_in("arn:aws:ec2:us-east-1:1:volume/vol-xyz"), None);
    }
}
