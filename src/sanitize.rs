//! Neutralising text that came from AWS or a stream before it can reach the terminal.
//!
//! A record payload, an alarm reason or an SNS message can carry escape sequences that would
//! move the cursor, change the title or write to the clipboard of the operator's terminal. Every
//! such string passes through [`clean`] before it is stored in state the UI renders.
//!
//! Bidirectional controls (U+202A–202E, U+2066–2069, U+200E/200F, U+061C) are neutralised too:
//! they move nothing on the screen but reorder what the operator reads, so an alarm name or a
//! device id could show one text and be another (the "Trojan Source" class of attack).

/// Replaces every control character (C0, DEL, C1) and every bidirectional control with a
/// visible stand-in; tabs and newlines
/// become spaces so a cell never receives a line break it did not ask for.
pub fn clean(s: &str) -> String {
    cleaned(s).into_owned()
}

/// [`clean`] without a copy when there is nothing to neutralise (the common case on a hot
/// path such as stream decoding): the text is borrowed as it is.
pub fn cleaned(s: &str) -> std::borrow::Cow<'_, str> {
    // Every unsafe character is a C0 byte, DEL, a C1 character (UTF-8 lead byte 0xC2), U+061C
    // (lead byte 0xD8) or a bidi control of U+200E–2069 (lead byte 0xE2): a byte scan finds
    // the text that has none without decoding it.
    if !s
        .bytes()
        .any(|b| b < 0x20 || b == 0x7f || b == 0xc2 || b == 0xd8 || b == 0xe2)
        || !s.chars().any(is_unsafe)
    {
        return std::borrow::Cow::Borrowed(s);
    }
    std::borrow::Cow::Owned(
        s.chars()
            .map(|c| match c {
                '\t' | '\n' | '\r' => ' ',
                c if is_unsafe(c) => '\u{FFFD}',
                c => c,
            })
            .collect(),
    )
}

/// JSON text made safe for a terminal without changing what it says: every character
/// [`clean`] would replace is written as a `\uXXXX` escape instead. serde_json escapes C0
/// controls but leaves DEL, C1 controls (U+0080–009F) and bidi controls raw; a JSON line
/// printed for a person or a log goes through this, and still parses to the same data.
pub fn escape_json(json: &str) -> std::borrow::Cow<'_, str> {
    if !json.chars().any(is_unsafe) {
        return std::borrow::Cow::Borrowed(json);
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if is_unsafe(c) {
            // Outside a string JSON allows only whitespace, which is not unsafe but for \t
            // \n \r: those are kept, everything else is escaped (inside strings, where
            // serde_json put them).
            if matches!(c, '\t' | '\n' | '\r') {
                out.push(c);
            } else {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Like [`clean`] but keeps newlines, for multi-line text shown in a paragraph (SNS messages).
pub fn clean_multiline(s: &str) -> String {
    s.lines().map(clean).collect::<Vec<_>>().join("\n")
}

/// Renders raw bytes (a rejected stream record) as printable text: valid UTF-8 is cleaned,
/// anything else is shown as escaped hex.
pub fn printable_bytes(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => clean(s),
        Err(_) => bytes
            .iter()
            .map(|b| {
                if b.is_ascii_graphic() || *b == b' ' {
                    (*b as char).to_string()
                } else {
                    format!("\\x{b:02x}")
                }
            })
            .collect(),
    }
}

/// Whether a character must not reach a terminal as it is: a control character, or a
/// bidirectional control that reorders the text around it.
pub fn is_unsafe(c: char) -> bool {
    c.is_control() || ('\u{80}'..='\u{9f}').contains(&c) || is_bidi_control(c)
}

/// The Unicode bidirectional formatting characters: embeddings and overrides (U+202A–202E),
/// isolates (U+2066–2069), the marks LRM/RLM (U+200E/200F) and the Arabic letter mark (U+061C).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_are_neutralised() {
        let evil = "ok\x1b]52;c;ZXZpbA==\x07\x1b[2J\u{9b}31m";
        let out = clean(evil);
        assert!(!out.chars().any(|c| c.is_control()));
        assert!(out.starts_with("ok"));
    }

    #[test]
    fn plain_text_is_unchanged() {
        assert_eq!(clean("prod-db-01 → 97.3 °C"), "prod-db-01 → 97.3 °C");
        assert!(matches!(
            cleaned("prod-db-01 → 97.3 °C"),
            std::borrow::Cow::Borrowed(_)
        ));
        // 0xC2 leads printable characters too (`°`, `©`): only C1 ones are replaced.
        assert!(matches!(
            cleaned("© 97.3 °C"),
            std::borrow::Cow::Borrowed(_)
        ));
        assert_eq!(cleaned("a\u{85}b\u{7f}"), "a\u{FFFD}b\u{FFFD}");
    }

    #[test]
    fn bidi_controls_are_neutralised() {
        // "Trojan Source": U+202E shows `prod-db-01` for what is `10-bd-dorp` in bytes.
        for c in [
            '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}', '\u{2067}',
            '\u{2068}', '\u{2069}', '\u{200E}', '\u{200F}', '\u{061C}',
        ] {
            let s = format!("alarm{c}name");
            assert_eq!(clean(&s), "alarm\u{FFFD}name", "{:04X}", c as u32);
            assert_eq!(clean_multiline(&s), "alarm\u{FFFD}name");
            assert_eq!(printable_bytes(s.as_bytes()), "alarm\u{FFFD}name");
        }
        // Other characters behind the same lead bytes stay as they are.
        for ok in ["→ 97.3 °C", "€ – — ‘’ “”", "ؠ عربي", "\u{200D}"] {
            assert!(matches!(cleaned(ok), std::borrow::Cow::Borrowed(_)), "{ok}");
        }
    }

    #[test]
    fn json_lines_are_escaped_and_keep_their_data() {
        let v = serde_json::json!({"name": "vol\u{9b}31m\u{202E}gpj.exe\u{7f}", "n": 1});
        let raw = serde_json::to_string(&v).unwrap();
        assert!(raw.contains('\u{9b}'), "serde_json leaves C1 raw");
        let safe = escape_json(&raw);
        assert!(!safe.chars().any(is_unsafe), "{safe}");
        assert!(
            safe.contains("\\u009b") && safe.contains("\\u202e"),
            "{safe}"
        );
        let back: serde_json::Value = serde_json::from_str(&safe).unwrap();
        assert_eq!(back, v, "the data is unchanged");
        let pretty = serde_json::to_string_pretty(&v).unwrap();
        assert!(escape_json(&pretty).contains('\n'));
        assert!(matches!(
            escape_json("{\"a\":1}"),
            std::borrow::Cow::Borrowed(_)
        ));
    }

    #[test]
    fn bytes_that_are_not_utf8_are_hex_escaped() {
        assert_eq!(printable_bytes(&[b'a', 0xff, 0x1b]), "a\\xff\\x1b");
    }
}
