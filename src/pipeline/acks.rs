//! Acknowledgements of alarm episodes: who acknowledged which ALARM episode, when, with what
//! note; announced on the alarm's SNS action topics and persisted in the store.

/// The OS user running watchband (recorded as the acknowledger).
pub fn current_user() -> String {
    ["USER", "USERNAME", "LOGNAME"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
        .map(|u| crate::sanitize::clean(&u))
        .unwrap_or_else(|| "unknown".into())
}
