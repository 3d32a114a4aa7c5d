//! The `:` command line: Tab completion over the commands and their arguments, running a
//! command (views, `:metric`, `:theme`, `:range`, ...), and the chart time ranges that `[`, `]`
//! and `:range` step through.

use super::state::*;
use super::update::*;
use crate::pipeline::Command;

/// The `:` commands, for Tab completion (views are also reachable by any unique prefix).
pub const COMMANDS: [&str; 13] = [
    "alarms",
    "backups",
    "filter",
    "help",
    "metric",
    "metrics",
    "notifications",
    "overview",
    "quit",
    "range",
    "refresh",
    "streams",
    "theme",
];

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

/// Completes a command line: the command, or the argument of `:range` and `:theme`. Returns
/// the completed line and the candidates (one when the completion is unique).
pub fn complete(input: &str) -> (String, Vec<String>) {
    let (head, word, options): (String, &str, Vec<&str>) = match input.split_once(' ') {
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
        [one] if head.is_empty() && (one == "range" || one == "theme") => format!("{one} "),
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
                 :notifications :overview :theme NAME :refresh :quit)"
            )),
        },
    }
}
