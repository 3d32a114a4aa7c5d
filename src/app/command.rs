//! The `:` command line: Tab completion over the commands and their arguments, running a
//! command (views, `:metric`, `:theme`, `:range`, `:profile`, `:region`, ...), the chart time
//! ranges that `[`, `]` and `:range` step through, and the profile and region picker's list.

use super::state::*;
use super::update::*;
use crate::pipeline::Command;

/// The `:` commands, for Tab completion (views are also reachable by any unique prefix).
pub const COMMANDS: [&str; 15] = [
    "alarms",
    "backups",
    "filter",
    "help",
    "metric",
    "metrics",
    "notifications",
    "overview",
    "profile",
    "quit",
    "range",
    "refresh",
    "region",
    "streams",
    "theme",
];

/// The commands whose argument Tab completes: a unique completion of one of them adds the
/// space before its argument.
const WITH_ARGUMENT: [&str; 4] = ["profile", "range", "region", "theme"];

/// The chart time ranges `[` and `]` step through, shortest first, and their `:range` names.
pub const RANGES: [(&str, Option<i64>); 6] = [
    ("1d", Some(86_400)),
    ("7d", Some(7 * 86_400)),
    ("30d", Some(30 * 86_400)),
    ("90d", Some(90 * 86_400)),
    ("1y", Some(365 * 86_400)),
    ("all", None),
];

pub fn range_label(r: Option<i64>) -> String {
    match RANGES.iter().find(|(_, x)| *x == r) {
        Some((name, None)) => format!("{name} history"),
        Some((name, _)) => format!("last {name}"),
        None => "custom range".into(),
    }
}

/// Completes a command line: the command, or the argument of `:range`, `:theme`, `:profile`
/// (the profiles of the shared AWS files, `profiles`) and `:region`. Returns the completed line
/// and the candidates (one when the completion is unique).
pub fn complete(input: &str, profiles: &[String]) -> (String, Vec<String>) {
    let (head, word, options): (String, &str, Vec<&str>) = match input.split_once(' ') {
        Some(("profile", arg)) => (
            "profile ".into(),
            arg,
            profiles.iter().map(String::as_str).collect(),
        ),
        Some(("region", arg)) => (
            "region ".into(),
            arg,
            crate::cloud::aws::profiles::REGIONS.to_vec(),
        ),
        Some(("range", arg)) => (
            "range ".into(),
            arg,
            RANGES.iter().map(|(n, _)| *n).collect(),
        ),
        Some(("theme", arg)) => (
            "theme ".into(),
            arg,
            crate::theme::BUILTIN.iter().map(|(n, _)| *n).collect(),
        ),
        Some(_) => return (input.to_string(), Vec::new()),
        None => (String::new(), input, COMMANDS.to_vec()),
    };
    let matches: Vec<String> = options
        .into_iter()
        .filter(|o| o.starts_with(word))
        .map(String::from)
        .collect();
    let done = match matches.as_slice() {
        [] => input.to_string(),
        [one] if head.is_empty() && WITH_ARGUMENT.contains(&one.as_str()) => format!("{one} "),
        [one] => format!("{head}{one}"),
        many => {
            let mut prefix = many[0].clone();
            for m in &many[1..] {
                let n = prefix
                    .chars()
                    .zip(m.chars())
                    .take_while(|(a, b)| a == b)
                    .count();
                prefix = prefix.chars().take(n).collect();
            }
            format!("{head}{prefix}")
        }
    };
    (done, matches)
}

/// Runs a `:` command line.
pub(super) fn run_command(state: &mut AppState, line: &str, effects: &mut Vec<Effect>) {
    let (cmd, arg) = match line.split_once(char::is_whitespace) {
        Some((c, a)) => (c, a.trim()),
        None => (line, ""),
    };
    match cmd {
        "" => {}
        "q" | "quit" => {
            state.quit = true;
            effects.push(Effect::Quit);
        }
        "theme" if arg.is_empty() => state.refuse(format!(
            "usage: :theme NAME|PATH (built-in: {})",
            crate::theme::BUILTIN.map(|(n, _)| n).join(", ")
        )),
        "theme" => effects.push(Effect::LoadTheme(arg.to_string())),
        "metric" | "metrics" if cmd == "metric" || !arg.is_empty() => {
            effects.push(Effect::Pipeline(Command::ListMetrics { namespace: None }));
            state.modal = Some(Modal::MetricBrowser {
                query: arg.to_string(),
                selected: 0,
            });
        }
        "refresh" => {
            effects.push(Effect::Pipeline(Command::Refresh));
            state.say("refreshing…");
        }
        "help" => {
            state.modal = Some(Modal::Help {
                query: arg.to_string(),
                scroll: 0,
            })
        }
        "filter" => state.filter = arg.to_string(),
        "profile" | "region" => {
            let field = if cmd == "profile" {
                AccountField::Profile
            } else {
                AccountField::Region
            };
            if state.demo.is_some() {
                state.refuse(format!(
                    "the demo is one simulated account in one region, so there is no other \
                     {cmd} to switch to; start watchband without --demo to watch your AWS \
                     profiles and regions"
                ));
            } else if arg.is_empty() {
                state.modal = Some(Modal::AccountPicker {
                    field,
                    query: String::new(),
                    selected: 0,
                });
            } else {
                let choice = match field {
                    AccountField::Profile => AccountChoice::Profile(arg.to_string()),
                    AccountField::Region => AccountChoice::Region(arg.to_string()),
                };
                switch_account(state, choice, effects);
            }
        }
        "range" => match RANGES.iter().find(|(n, _)| *n == arg) {
            Some((_, r)) => {
                state.range = *r;
                state.zoom = Default::default();
                state.say(format!("charts: {}", range_label(*r)));
            }
            None => state.refuse(format!(
                "usage: :range {}",
                RANGES.map(|(n, _)| n).join("|")
            )),
        },
        other => match View::from_command(other) {
            Some(v) => switch_view(state, v.index()),
            None => state.refuse(format!(
                "unknown command :{other} (try :backups :streams :alarms :metrics :metric \
                 :notifications :overview :theme NAME :profile NAME :region NAME :refresh :quit)"
            )),
        },
    }
}

/// What the profile or region picker lists for its query: the known profiles or the regions
/// containing the text typed, in their order.
pub fn picker_matches(state: &AppState, field: AccountField, query: &str) -> Vec<String> {
    let q = query.to_lowercase();
    let all: Vec<&str> = match field {
        AccountField::Profile => state.profiles.iter().map(String::as_str).collect(),
        AccountField::Region => crate::cloud::aws::profiles::REGIONS.to_vec(),
    };
    all.into_iter()
        .filter(|n| n.to_lowercase().contains(&q))
        .map(String::from)
        .collect()
}

/// Asks the runtime to watch another profile's or region's account, unless one switch is
/// already under way or the name cannot be one. What cannot be known here (whether the
/// profile exists now, whether its credentials resolve) comes back as
/// [`Input::AccountSwitched`].
pub(super) fn switch_account(
    state: &mut AppState,
    choice: AccountChoice,
    effects: &mut Vec<Effect>,
) {
    if let Some(to) = &state.switching {
        state.refuse(format!("already switching to {to}; wait for it to finish"));
        return;
    }
    let what = match &choice {
        AccountChoice::Profile(p) => format!("profile {p}"),
        // The configuration file's check: a region not in the picker's list (a new one) may
        // still be typed, but only in a region's shape.
        AccountChoice::Region(r) if !crate::config::is_region_name(r) => {
            state.refuse(format!(
                "{r:?} is not a region name: type one like eu-west-1 (:region NAME, Tab \
                 completes) or pick one from the list (:region alone)"
            ));
            return;
        }
        AccountChoice::Region(r) => format!("region {r}"),
    };
    state.say(format!("switching to {what}…"));
    state.switching = Some(what);
    effects.push(Effect::SwitchAccount(choice));
}
