//! Reading tape files: the subset of VHS's format that scripted watchband walkthroughs use.
//!
//! ```text
//! Output recordings/backup-anomaly.cast
//! Output recordings/backup-anomaly.txt
//! Set Width 120
//! Set Height 36
//! Type ":backups"
//! Enter
//! Down 3
//! Ctrl+C
//! Sleep 2s
//! Hide / Show
//! Screenshot recordings/backup-anomaly-detail.txt
//! ```
//!
//! VHS's cosmetic settings (font, theme, padding, ...) are accepted and have no effect on a
//! text recording; anything else unknown is refused with its line number, so a typo never
//! silently changes a walkthrough.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::path::PathBuf;
use std::time::Duration;

/// One step of a tape.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Press keys, one after another, `delay` apart.
    Keys {
        keys: Vec<KeyEvent>,
        delay: Duration,
    },
    /// Let the virtual clock run.
    Sleep(Duration),
    /// Stop / resume recording output.
    Hide,
    Show,
    /// Write the current screen as text.
    Screenshot(PathBuf),
}

/// A parsed tape: where to write, the terminal size, the steps with their line numbers.
#[derive(Debug, Clone, PartialEq)]
pub struct Tape {
    pub cast_output: Option<PathBuf>,
    pub text_output: Option<PathBuf>,
    pub width: u16,
    pub height: u16,
    /// Delay between typed characters (VHS's TypingSpeed; default 50 ms).
    pub typing_delay: Duration,
    pub steps: Vec<(usize, Step)>,
}

/// A tape that could not be read: the line and why.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct TapeError {
    pub line: usize,
    pub message: String,
}

/// VHS settings that only change how a video looks; they are accepted and ignored.
const COSMETIC_SETTINGS: &[&str] = &[
    "FontSize",
    "FontFamily",
    "LetterSpacing",
    "LineHeight",
    "Theme",
    "Padding",
    "Margin",
    "MarginFill",
    "WindowBar",
    "WindowBarSize",
    "BorderRadius",
    "Framerate",
    "PlaybackSpeed",
    "LoopOffset",
    "CursorBlink",
    "Shell",
];

pub fn parse(text: &str) -> Result<Tape, TapeError> {
    let mut tape = Tape {
        cast_output: None,
        text_output: None,
        width: 80,
        height: 24,
        typing_delay: Duration::from_millis(50),
        steps: Vec::new(),
    };
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let err = |message: String| TapeError { line, message };
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let (word, rest) = match trimmed.split_once(char::is_whitespace) {
            Some((w, r)) => (w, r.trim()),
            None => (trimmed, ""),
        };
        // `Type@100ms "x"` and `Enter@1s 3` carry their own delay.
        let (command, delay) = match word.split_once('@') {
            Some((c, d)) => (c, Some(parse_duration(d).map_err(err)?)),
            None => (word, None),
        };
        let step = match command {
            "Output" => {
                let path = PathBuf::from(unquote(rest).map_err(err)?);
                match path.extension().and_then(|e| e.to_str()) {
                    Some("cast") => tape.cast_output = Some(path),
                    Some("txt") | Some("ascii") => tape.text_output = Some(path),
                    _ => {
                        return Err(err(format!(
                            "Output must name a .cast or .txt file, not {}",
                            path.display()
                        )));
                    }
                }
                continue;
            }
            "Set" => {
                let (name, value) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
                let value = value.trim();
                match name {
                    "Width" => tape.width = parse_size(value, 40, 400).map_err(err)?,
                    "Height" => tape.height = parse_size(value, 10, 200).map_err(err)?,
                    "TypingSpeed" => tape.typing_delay = parse_duration(value).map_err(err)?,
                    n if COSMETIC_SETTINGS.contains(&n) => {}
                    other => {
                        return Err(err(format!(
                            "unknown setting {other:?} (known: Width, Height, TypingSpeed, and VHS's cosmetic ones)"
                        )));
                    }
                }
                continue;
            }
            "Type" => {
                let text = unquote(rest).map_err(err)?;
                Step::Keys {
                    keys: text.chars().map(char_key).collect(),
                    delay: delay.unwrap_or(tape.typing_delay),
                }
            }
            "Sleep" => Step::Sleep(parse_duration(rest).map_err(err)?),
            "Hide" => Step::Hide,
            "Show" => Step::Show,
            "Screenshot" => Step::Screenshot(PathBuf::from(unquote(rest).map_err(err)?)),
            name => {
                let key = named_key(name).ok_or_else(|| {
                    err(format!(
                        "unknown command {name:?} (known: Output, Set, Type, Enter, Tab, Escape, \
                         Backspace, Space, Up, Down, Left, Right, PageUp, PageDown, Ctrl+<key>, \
                         Sleep, Hide, Show, Screenshot)"
                    ))
                })?;
                let count = if rest.is_empty() {
                    1
                } else {
                    rest.parse::<usize>()
                        .ok()
                        .filter(|n| (1..=1000).contains(n))
                        .ok_or_else(|| {
                            err(format!("{name} takes a repeat count 1–1000, not {rest:?}"))
                        })?
                };
                Step::Keys {
                    keys: vec![key; count],
                    delay: delay.unwrap_or(Duration::from_millis(100)),
                }
            }
        };
        tape.steps.push((line, step));
    }
    Ok(tape)
}

fn char_key(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
}

fn named_key(name: &str) -> Option<KeyEvent> {
    if let Some(k) = name.strip_prefix("Ctrl+") {
        let mut chars = k.chars();
        let c = chars.next()?;
        return (chars.next().is_none() && c.is_ascii_alphanumeric())
            .then(|| KeyEvent::new(KeyCode::Char(c.to_ascii_lowercase()), KeyModifiers::CONTROL));
    }
    let code = match name {
        "Enter" => KeyCode::Enter,
        "Tab" => KeyCode::Tab,
        "Escape" => KeyCode::Esc,
        "Backspace" => KeyCode::Backspace,
        "Space" => KeyCode::Char(' '),
        "Up" => KeyCode::Up,
        "Down" => KeyCode::Down,
        "Left" => KeyCode::Left,
        "Right" => KeyCode::Right,
        "PageUp" => KeyCode::PageUp,
        "PageDown" => KeyCode::PageDown,
        _ => return None,
    };
    Some(KeyEvent::new(code, KeyModifiers::NONE))
}

/// `"text"`, `'text'` or `` `text` `` (VHS's three quotes); `\"` and `\\` inside double quotes.
fn unquote(s: &str) -> Result<String, String> {
    let s = s.trim();
    let mut chars = s.chars();
    let Some(q @ ('"' | '\'' | '`')) = chars.next() else {
        if s.is_empty() {
            return Err("expected a quoted string or a path".into());
        }
        return Ok(s.to_string());
    };
    let mut out = String::new();
    let mut escaped = false;
    for c in chars.by_ref() {
        if escaped {
            out.push(c);
            escaped = false;
        } else if c == '\\' && q == '"' {
            escaped = true;
        } else if c == q {
            let rest: String = chars.collect();
            if !rest.trim().is_empty() {
                return Err(format!("unexpected text after the closing quote: {rest:?}"));
            }
            return Ok(out);
        } else {
            out.push(c);
        }
    }
    Err("the string has no closing quote".into())
}

/// `2s`, `500ms`, `1.5s`, `1m`, or a bare number of seconds (as VHS reads it).
fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (number, scale) = if let Some(n) = s.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = s.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = s.strip_suffix('m') {
        (n, 60.0)
    } else {
        (s, 1.0)
    };
    let secs = number
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v >= 0.0)
        .map(|v| v * scale)
        .filter(|v| *v <= 3600.0)
        .ok_or_else(|| format!("not a duration up to an hour: {s:?} (e.g. 2s, 500ms)"))?;
    Ok(Duration::from_secs_f64(secs))
}

fn parse_size(s: &str, min: u16, max: u16) -> Result<u16, String> {
    s.parse::<u16>()
        .ok()
        .filter(|v| (min..=max).contains(v))
        .ok_or_else(|| format!("expected a size from {min} to {max}, not {s:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_tape_parses() {
        let tape = parse(
            "# walkthrough\nOutput out/demo.cast\nOutput out/demo.txt\nSet Width 120\nSet Height 36\n\
             Set FontSize 22\nType \"2\"\nDown 3\nEnter\nCtrl+C\nSleep 1.5s\nSleep 500ms\nHide\nShow\n\
             Screenshot out/shot.txt\nType@10ms 'x'\n",
        )
        .unwrap();
        assert_eq!(tape.cast_output, Some(PathBuf::from("out/demo.cast")));
        assert_eq!(tape.text_output, Some(PathBuf::from("out/demo.txt")));
        assert_eq!((tape.width, tape.height), (120, 36));
        let steps: Vec<&Step> = tape.steps.iter().map(|(_, s)| s).collect();
        assert_eq!(steps.len(), 10);
        assert!(
            matches!(steps[1], Step::Keys { keys, .. } if keys.len() == 3 && keys[0].code == KeyCode::Down)
        );
        assert!(
            matches!(steps[3], Step::Keys { keys, .. } if keys[0].modifiers == KeyModifiers::CONTROL && keys[0].code == KeyCode::Char('c'))
        );
        assert_eq!(steps[4], &Step::Sleep(Duration::from_millis(1500)));
        assert_eq!(steps[5], &Step::Sleep(Duration::from_millis(500)));
        assert!(
            matches!(steps[9], Step::Keys { delay, .. } if *delay == Duration::from_millis(10))
        );
        assert_eq!(tape.steps[0].0, 7, "steps keep their line numbers");
    }

    #[test]
    fn unknown_commands_are_refused_with_their_line() {
        let e = parse("Output a.cast\n\nTypo \"x\"\n").unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.message.contains("unknown command \"Typo\""), "{e}");
        let e = parse("Set Colour red\n").unwrap_err();
        assert_eq!(e.line, 1);
        assert!(e.to_string().starts_with("line 1: unknown setting"));
    }

    #[test]
    fn bad_arguments_are_explained() {
        assert!(
            parse("Sleep forever")
                .unwrap_err()
                .message
                .contains("not a duration")
        );
        assert!(
            parse("Type \"open")
                .unwrap_err()
                .message
                .contains("closing quote")
        );
        assert!(
            parse("Down 0")
                .unwrap_err()
                .message
                .contains("repeat count")
        );
        assert!(
            parse("Set Width 5")
                .unwrap_err()
                .message
                .contains("from 40 to 400")
        );
        assert!(
            parse("Output movie.gif")
                .unwrap_err()
                .message
                .contains(".cast or .txt")
        );
        assert!(
            parse("Ctrl+")
                .unwrap_err()
                .message
                .contains("unknown command")
        );
    }

    #[test]
    fn quoted_strings_keep_escapes() {
        assert_eq!(unquote(r#""say \"hi\"""#).unwrap(), "say \"hi\"");
        assert_eq!(unquote("`a\"b`").unwrap(), "a\"b");
    }
}
