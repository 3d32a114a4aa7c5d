//! The names an operator can switch to with `:profile` and `:region`: the profiles of the
//! shared AWS configuration and credentials files, and the AWS regions.
//!
//! Only the section headers are read (never a key's value), so nothing secret from the
//! credentials file is ever held here.

use std::collections::BTreeSet;
use std::path::PathBuf;

/// The commercial, GovCloud and China regions, for `:region`'s completion and picker. A region
/// not listed here (a new one) can still be typed in full.
pub const REGIONS: [&str; 36] = [
    "af-south-1",
    "ap-east-1",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "cn-north-1",
    "cn-northwest-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-gov-east-1",
    "us-gov-west-1",
    "us-west-1",
    "us-west-2",
];

/// The shared configuration file: `AWS_CONFIG_FILE`, else `~/.aws/config`.
fn config_path() -> Option<PathBuf> {
    shared_path("AWS_CONFIG_FILE", "config")
}

/// The shared credentials file: `AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/credentials`.
fn credentials_path() -> Option<PathBuf> {
    shared_path("AWS_SHARED_CREDENTIALS_FILE", "credentials")
}

fn shared_path(var: &str, file: &str) -> Option<PathBuf> {
    match std::env::var_os(var).filter(|v| !v.is_empty()) {
        Some(p) => {
            // The SDK expands a leading `~/` in these variables; so do we.
            let p = PathBuf::from(p);
            match (p.strip_prefix("~"), dirs::home_dir()) {
                (Ok(rest), Some(home)) => Some(home.join(rest)),
                _ => Some(p),
            }
        }
        None => dirs::home_dir().map(|h| h.join(".aws").join(file)),
    }
}

/// Every profile named in the shared files, sorted; missing or unreadable files name none.
pub fn shared_profiles() -> Vec<String> {
    let read = |p: Option<PathBuf>| p.and_then(|p| std::fs::read_to_string(p).ok());
    profile_names(
        read(config_path()).as_deref().unwrap_or(""),
        read(credentials_path()).as_deref().unwrap_or(""),
    )
}

/// The profiles the two files' section headers name: `[default]` and `[profile NAME]` in the
/// configuration file (other sections there — `[sso-session x]`, `[services x]` — are not
/// profiles), and every `[NAME]` in the credentials file.
pub fn profile_names(config: &str, credentials: &str) -> Vec<String> {
    let mut names = BTreeSet::new();
    for header in headers(config) {
        let mut words = header.split_whitespace();
        match (words.next(), words.next(), words.next()) {
            (Some("default"), None, _) => {
                names.insert("default".to_string());
            }
            (Some("profile"), Some(name), None) => {
                names.insert(name.to_string());
            }
            _ => {}
        }
    }
    for header in headers(credentials) {
        if !header.is_empty() && !header.contains(char::is_whitespace) {
            names.insert(header.to_string());
        }
    }
    names.into_iter().collect()
}

/// The text between `[` and `]` of each section header line.
fn headers(text: &str) -> impl Iterator<Item = &str> {
    text.lines().filter_map(|l| {
        let l = l.trim();
        l.strip_prefix('[')
            .and_then(|l| l.strip_suffix(']'))
            .map(str::trim)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_come_from_both_files_and_only_from_profile_sections() {
        let config = "[default]\nregion = us-east-1\n\n[profile prod]\nregion = eu-west-1\n\
                      [sso-session corp]\nsso_start_url = https://x\n[services local]\n\
                      [profile  dev ]\n# [profile commented]\n";
        let credentials = "[default]\naws_access_key_id = AKID\n[ci]\naws_secret_access_key = s\n";
        assert_eq!(
            profile_names(config, credentials),
            vec!["ci", "default", "dev", "prod"]
        );
        assert!(profile_names("", "").is_empty());
    }

    #[test]
    fn regions_are_sorted_and_unique() {
        let mut sorted = REGIONS.to_vec();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted, REGIONS.to_vec());
    }
}
