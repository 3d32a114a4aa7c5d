//! Themes: every style the UI draws with has a semantic role ([`Role`]); a theme maps roles to
//! styles. Built-in themes are TOML files in `themes/` embedded at build time; user themes live
//! in `<config dir>/watchband/themes/NAME.toml` and override built-ins of the same name; `--theme`
//! also takes a path. A file only has to name the roles it changes: the rest come from the
//! default theme (the 16 ANSI colours, which survive SSH and tmux).
//!
//! Under NO_COLOR the monochrome theme is used: state is marked with bold, reverse and
//! underline only. We do this ourselves because crossterm 0.29's own NO_COLOR handling also
//! drops the modifiers we rely on.

use ratatui::style::{Color, Modifier, Style};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// A semantic role: what a colour means, not what it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    Text,
    Dim,
    Border,
    BorderFocus,
    Title,
    Header,
    Selection,
    TabActive,
    Band,
    CloudWatchBand,
    Series,
    Anomaly,
    Hot,
    Cold,
    AlarmOk,
    AlarmAlarm,
    AlarmInsufficient,
    Acknowledged,
    HealthOk,
    HealthThrottled,
    HealthDegraded,
    Dialog,
    DialogBorder,
    Input,
    StatusBar,
    Message,
    Error,
    Progress,
    Sparkline,
}

impl Role {
    pub const ALL: [Role; 29] = [
        Role::Text,
        Role::Dim,
        Role::Border,
        Role::BorderFocus,
        Role::Title,
        Role::Header,
        Role::Selection,
        Role::TabActive,
        Role::Band,
        Role::CloudWatchBand,
        Role::Series,
        Role::Anomaly,
        Role::Hot,
        Role::Cold,
        Role::AlarmOk,
        Role::AlarmAlarm,
        Role::AlarmInsufficient,
        Role::Acknowledged,
        Role::HealthOk,
        Role::HealthThrottled,
        Role::HealthDegraded,
        Role::Dialog,
        Role::DialogBorder,
        Role::Input,
        Role::StatusBar,
        Role::Message,
        Role::Error,
        Role::Progress,
        Role::Sparkline,
    ];

    /// The key used in theme files (`alarm.alarm`, `band`, ...).
    pub fn key(self) -> &'static str {
        match self {
            Role::Text => "text",
            Role::Dim => "dim",
            Role::Border => "border",
            Role::BorderFocus => "border.focus",
            Role::Title => "title",
            Role::Header => "header",
            Role::Selection => "selection",
            Role::TabActive => "tab.active",
            Role::Band => "band",
            Role::CloudWatchBand => "band.cloudwatch",
            Role::Series => "series",
            Role::Anomaly => "anomaly",
            Role::Hot => "threshold.hot",
            Role::Cold => "threshold.cold",
            Role::AlarmOk => "alarm.ok",
            Role::AlarmAlarm => "alarm.alarm",
            Role::AlarmInsufficient => "alarm.insufficient",
            Role::Acknowledged => "alarm.acknowledged",
            Role::HealthOk => "health.ok",
            Role::HealthThrottled => "health.throttled",
            Role::HealthDegraded => "health.degraded",
            Role::Dialog => "dialog",
            Role::DialogBorder => "dialog.border",
            Role::Input => "input",
            Role::StatusBar => "status",
            Role::Message => "message",
            Role::Error => "error",
            Role::Progress => "progress",
            Role::Sparkline => "sparkline",
        }
    }

    fn from_key(key: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.key() == key)
    }
}

/// A named mapping from roles to styles.
#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    pub name: String,
    styles: BTreeMap<Role, Style>,
    /// Monochrome themes mark chart areas with glyphs instead of a background fill.
    pub monochrome: bool,
}

/// A theme file that could not be used: where and why.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("theme file {path}:{line}: {reason}")]
pub struct ThemeError {
    pub path: String,
    pub line: usize,
    pub reason: String,
}

/// The built-in themes, in the order `t` cycles through them.
pub const BUILTIN: [(&str, &str); 5] = [
    ("default", include_str!("../themes/default.toml")),
    ("dark", include_str!("../themes/dark.toml")),
    ("light", include_str!("../themes/light.toml")),
    (
        "high-contrast",
        include_str!("../themes/high-contrast.toml"),
    ),
    ("monochrome", include_str!("../themes/monochrome.toml")),
];

impl Theme {
    /// The style of a role (the default theme's when this theme does not set it).
    pub fn style(&self, role: Role) -> Style {
        self.styles.get(&role).copied().unwrap_or_default()
    }

    /// The foreground colour of a role, for canvas painting (which takes colours only).
    pub fn fg(&self, role: Role) -> Color {
        self.style(role).fg.unwrap_or(Color::Reset)
    }

    /// The built-in default theme (16 ANSI colours).
    pub fn default_theme() -> Theme {
        Theme::builtin("default").expect("the default theme is valid")
    }

    /// A built-in theme by name.
    pub fn builtin(name: &str) -> Option<Theme> {
        let (_, text) = BUILTIN.iter().find(|(n, _)| *n == name)?;
        Some(
            Theme::parse(text, &format!("themes/{name}.toml"), None)
                .expect("built-in themes are checked by tests"),
        )
    }

    /// Parses a theme file over a base (the default theme when `None`).
    pub fn parse(text: &str, path: &str, base: Option<&Theme>) -> Result<Theme, ThemeError> {
        let err = |line: usize, reason: String| ThemeError {
            path: path.to_string(),
            line,
            reason,
        };
        let table: toml::Table = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|s| line_of_offset(text, s.start)).unwrap_or(1);
            err(line, e.message().to_string())
        })?;
        let mut theme = match base {
            Some(b) => b.clone(),
            None if path == "themes/default.toml" => Theme {
                name: String::new(),
                styles: BTreeMap::new(),
                monochrome: false,
            },
            None => Theme::default_theme(),
        };
        theme.name = Path::new(path)
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("custom")
            .to_string();
        for (key, value) in &table {
            let line = line_of_key(text, key);
            match key.as_str() {
                "name" => {
                    theme.name = value
                        .as_str()
                        .ok_or_else(|| err(line, "`name` must be a string".into()))?
                        .to_string()
                }
                "monochrome" => {
                    theme.monochrome = value
                        .as_bool()
                        .ok_or_else(|| err(line, "`monochrome` must be true or false".into()))?
                }
                "roles" => {
                    let roles = value
                        .as_table()
                        .ok_or_else(|| err(line, "`roles` must be a table".into()))?;
                    for (rkey, rvalue) in roles {
                        let line = line_of_key(text, rkey);
                        let role = Role::from_key(rkey).ok_or_else(|| {
                            err(
                                line,
                                format!(
                                    "unknown role `{rkey}` (known: {})",
                                    Role::ALL.map(Role::key).join(", ")
                                ),
                            )
                        })?;
                        let style = parse_style(rvalue)
                            .map_err(|reason| err(line, format!("role `{rkey}`: {reason}")))?;
                        theme.styles.insert(role, style);
                    }
                }
                other => {
                    return Err(err(
                        line,
                        format!("unknown key `{other}` (expected name, monochrome, [roles])"),
                    ));
                }
            }
        }
        Ok(theme)
    }

    /// Loads a theme by name or path: a path (contains `/` or ends in `.toml`) is read as is;
    /// a name is looked up in the user's theme directory first, then among the built-ins.
    pub fn load(spec: &str, user_dir: Option<&Path>) -> Result<Theme, ThemeError> {
        let as_path = spec.contains('/') || spec.ends_with(".toml");
        let file: Option<PathBuf> = if as_path {
            Some(PathBuf::from(spec))
        } else {
            user_dir
                .map(|d| d.join(format!("{spec}.toml")))
                .filter(|p| p.exists())
        };
        if let Some(path) = file {
            let shown = path.display().to_string();
            let text = std::fs::read_to_string(&path).map_err(|e| ThemeError {
                path: shown.clone(),
                line: 0,
                reason: format!("cannot read it: {e}"),
            })?;
            return Theme::parse(&text, &shown, None);
        }
        Theme::builtin(spec).ok_or_else(|| ThemeError {
            path: spec.to_string(),
            line: 0,
            reason: format!(
                "no such theme; built-in themes are {}, user themes go in {}",
                BUILTIN.map(|(n, _)| n).join(", "),
                user_dir
                    .map(|d| d.display().to_string())
                    .unwrap_or_else(|| "<config dir>/watchband/themes".into())
            ),
        })
    }

    /// The user's theme directory: `<config dir>/watchband/themes`.
    pub fn user_dir() -> Option<PathBuf> {
        dirs::config_dir().map(|d| d.join("watchband").join("themes"))
    }

    /// The theme to start with: `--theme` if given, monochrome under NO_COLOR, else default.
    pub fn initial(spec: Option<&str>, no_color: bool) -> Result<Theme, ThemeError> {
        match spec {
            Some(s) => Theme::load(s, Theme::user_dir().as_deref()),
            None if no_color => Ok(Theme::builtin("monochrome").expect("built-in")),
            None => Ok(Theme::default_theme()),
        }
    }

    /// Whether NO_COLOR asks for no colour (set and not empty, per no-color.org).
    pub fn no_color_requested() -> bool {
        std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
    }
}

/// The built-in theme after `current` in cycling order (`t`).
pub fn next_builtin(current: &str) -> &'static str {
    let i = BUILTIN.iter().position(|(n, _)| *n == current);
    match i {
        Some(i) => BUILTIN[(i + 1) % BUILTIN.len()].0,
        None => BUILTIN[0].0,
    }
}

fn parse_color(s: &str) -> Result<Color, String> {
    Color::from_str(s).map_err(|_| {
        format!("`{s}` is not a colour (use a name like `red`, `#rrggbb` or an index 0–255)")
    })
}

/// A role's value: `"red"` (foreground) or `{ fg = "...", bg = "...", bold = true, ... }`.
fn parse_style(v: &toml::Value) -> Result<Style, String> {
    match v {
        toml::Value::String(s) => Ok(Style::default().fg(parse_color(s)?)),
        toml::Value::Table(t) => {
            let mut style = Style::default();
            for (k, v) in t {
                match (k.as_str(), v) {
                    ("fg", toml::Value::String(s)) => style = style.fg(parse_color(s)?),
                    ("bg", toml::Value::String(s)) => style = style.bg(parse_color(s)?),
                    (m @ ("bold" | "reverse" | "underline" | "italic" | "dim"), v) => {
                        let on = v.as_bool().ok_or(format!("`{m}` must be true or false"))?;
                        let modifier = match m {
                            "bold" => Modifier::BOLD,
                            "reverse" => Modifier::REVERSED,
                            "underline" => Modifier::UNDERLINED,
                            "italic" => Modifier::ITALIC,
                            _ => Modifier::DIM,
                        };
                        if on {
                            style = style.add_modifier(modifier);
                        }
                    }
                    (k, _) => {
                        return Err(format!(
                            "unexpected `{k}` (expected fg, bg, bold, reverse, underline, italic, dim)"
                        ));
                    }
                }
            }
            Ok(style)
        }
        _ => Err("expected a colour string or a table { fg, bg, bold, ... }".into()),
    }
}

fn line_of_offset(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// The line on which a key is defined (for error messages; tables lose their spans).
fn line_of_key(text: &str, key: &str) -> usize {
    text.lines()
        .position(|l| {
            let l = l.trim_start();
            let l = l.strip_prefix('"').unwrap_or(l);
            l.strip_prefix(key)
                .is_some_and(|rest| rest.trim_start_matches('"').trim_start().starts_with('='))
        })
        .map(|i| i + 1)
        .unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_theme_parses_and_sets_every_role() {
        for (name, text) in BUILTIN {
            let t = Theme::parse(text, &format!("themes/{name}.toml"), None).unwrap();
            for role in Role::ALL {
                assert!(t.styles.contains_key(&role), "{name} lacks {}", role.key());
            }
        }
    }

    #[test]
    fn a_bad_colour_is_refused_with_path_line_and_reason() {
        let text = "name = \"x\"\n[roles]\ntext = \"red\"\n\"band\" = \"notacolour\"\n";
        let e = Theme::parse(text, "/tmp/x.toml", None).unwrap_err();
        assert_eq!(e.path, "/tmp/x.toml");
        assert_eq!(e.line, 4);
        assert!(e.reason.contains("notacolour"), "{e}");
    }

    #[test]
    fn a_syntax_error_names_its_line() {
        let e = Theme::parse("[roles]\ntext = = 1\n", "t.toml", None).unwrap_err();
        assert_eq!(e.line, 2, "{e}");
    }

    #[test]
    fn an_unknown_role_is_refused() {
        let e = Theme::parse("[roles]\n\nbandd = \"red\"\n", "t.toml", None).unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.reason.contains("unknown role `bandd`"));
    }

    #[test]
    fn names_hex_and_indexed_colours_are_accepted() {
        let t = Theme::parse(
            "[roles]\ntext = \"lightred\"\nband = { bg = \"#102030\" }\nseries = \"208\"\n",
            "t.toml",
            None,
        )
        .unwrap();
        assert_eq!(t.fg(Role::Text), Color::LightRed);
        assert_eq!(t.style(Role::Band).bg, Some(Color::Rgb(0x10, 0x20, 0x30)));
        assert_eq!(t.fg(Role::Series), Color::Indexed(208));
        // roles the file does not name come from the default theme
        assert_eq!(
            t.style(Role::AlarmAlarm),
            Theme::default_theme().style(Role::AlarmAlarm)
        );
    }

    #[test]
    fn monochrome_uses_no_colour() {
        let t = Theme::builtin("monochrome").unwrap();
        assert!(t.monochrome);
        for role in Role::ALL {
            let s = t.style(role);
            assert!(matches!(s.fg, None | Some(Color::Reset)), "{}", role.key());
            assert!(matches!(s.bg, None | Some(Color::Reset)), "{}", role.key());
        }
        assert!(
            t.style(Role::AlarmAlarm)
                .add_modifier
                .intersects(Modifier::BOLD | Modifier::REVERSED)
        );
    }

    #[test]
    fn cycling_visits_every_builtin() {
        let mut n = "default";
        for _ in 0..BUILTIN.len() {
            n = next_builtin(n);
        }
        assert_eq!(n, "default");
    }
}
