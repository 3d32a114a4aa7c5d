//! Resource ids inside ARNs and event resources: the `snap-…` and `vol-…` ids at their end.

/// The `snap-...` id at the end of a snapshot ARN or event resource.
pub fn snapshot_id_in(s: &str) -> Option<&str> {
    id_with_prefix(s, "snap-")
}

/// The `vol-...` id at the end of a volume ARN.
pub fn volume_id_in(s: &str) -> Option<&str> {
    id_with_prefix(s, "vol-")
}

/// The recovery point ARN AWS Backup gives an EBS snapshot: the snapshot's ARN, in the region
/// of the volume it was taken of (`arn:aws:ec2:REGION::snapshot/snap-…`).
pub fn snapshot_arn_for(volume_arn: &str, snapshot_id: &str) -> String {
    let region = volume_arn.split(':').nth(3).unwrap_or("");
    format!("arn:aws:ec2:{region}::snapshot/{snapshot_id}")
}

/// The short name of a principal for a narrow column: the last two parts of an IAM or STS
/// ARN (`user/demo`, `Operator/alice` of `assumed-role/Operator/alice`), and anything after it
/// (`(OS user …)`) dropped; text that is not an ARN is returned as it is.
pub fn principal_name(who: &str) -> String {
    let Some(arn) = who
        .split_whitespace()
        .next()
        .filter(|w| w.starts_with("arn:"))
    else {
        return who.to_string();
    };
    let resource = arn.splitn(6, ':').nth(5).unwrap_or(arn);
    let parts: Vec<&str> = resource.split('/').collect();
    parts[parts.len().saturating_sub(2)..].join("/")
}

/// An EC2 volume ARN in its exact form, `arn:<partition>:ec2:<region>:<account>:volume/vol-<hex>`,
/// as (region, account, volume id); anything else — another service or resource type, a
/// missing account, a character outside the form (an escape sequence before the id) — is `None`.
pub fn volume_arn_parts(s: &str) -> Option<(&str, &str, &str)> {
    let mut p = s.splitn(6, ':');
    let (arn, partition, service, region, account, resource) = (
        p.next()?,
        p.next()?,
        p.next()?,
        p.next()?,
        p.next()?,
        p.next()?,
    );
    let id = resource.strip_prefix("volume/")?;
    let hex = id.strip_prefix("vol-")?;
    let ok = arn == "arn"
        && matches!(partition, "aws" | "aws-cn" | "aws-us-gov")
        && service == "ec2"
        && !region.is_empty()
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && !hex.is_empty()
        && hex.bytes().all(|b| b.is_ascii_hexdigit());
    ok.then_some((region, account, id))
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
    fn principals_are_named_by_their_last_two_parts() {
        assert_eq!(
            principal_name("arn:aws:sts::123456789012:assumed-role/Operator/alice (OS user bob)"),
            "Operator/alice"
        );
        assert_eq!(
            principal_name("arn:aws:iam::123456789012:user/demo"),
            "user/demo"
        );
        assert_eq!(
            principal_name("OS user bob (identity unknown)"),
            "OS user bob (identity unknown)"
        );
    }

    #[test]
    fn only_an_exact_volume_arn_parses() {
        assert_eq!(
            volume_arn_parts("arn:aws:ec2:us-east-1:123456789012:volume/vol-0123abc"),
            Some(("us-east-1", "123456789012", "vol-0123abc"))
        );
        for bad in [
            "arn:aws:ec2:us-east-1:123456789012:volume/\u{1b}]0;x\u{7}vol-0123abc",
            "arn:aws:ec2:us-east-1:123456789012:volume/\u{202e}vol-0123abc",
            "arn:aws:ec2:us-east-1::volume/vol-0123abc",
            "arn:aws:s3:us-east-1:123456789012:volume/vol-0123abc",
            "arn:aws:ec2:us-east-1:123456789012:snapshot/vol-0123abc",
            "arn:aws:ec2:us-east-1:123456789012:volume/vol-",
            "vol-0123abc",
        ] {
            assert_eq!(volume_arn_parts(bad), None, "{bad:?}");
        }
    }

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
