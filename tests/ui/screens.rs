//! Whole-screen snapshots of every view and dialog on the fixed fixture, at 80×24 and 160×48
//! (TestBackend + insta). A change to any screen shows up as a snapshot diff to review.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::{Terminal, backend::TestBackend};
use watchband::app::fixture;
use watchband::app::state::AppState;
use watchband::app::{Input, update};

fn screen(state: &AppState, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| watchband::ui::render(f, state)).unwrap();
    let buf = t.backend().buffer().clone();
    let mut out = String::new();
    for y in 0..h {
        let mut line = String::new();
        for x in 0..w {
            line.push_str(buf[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn key(s: &mut AppState, code: KeyCode) {
    update(s, Input::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

fn keys(s: &mut AppState, text: &str) {
    for c in text.chars() {
        key(s, KeyCode::Char(c));
    }
}

/// Each case: a name and the keys that lead from the fixture to the screen.
/// Keys that lead from the fixture to a screen.
type Steps = Box<dyn Fn(&mut AppState)>;

fn cases() -> Vec<(&'static str, Steps)> {
    vec![
        ("overview", Box::new(|_| {})),
        ("backups", Box::new(|s| keys(s, "2"))),
        (
            "volume_detail",
            Box::new(|s| {
                keys(s, "2j");
                key(s, KeyCode::Enter);
            }),
        ),
        ("streams", Box::new(|s| keys(s, "3"))),
        ("alarms", Box::new(|s| keys(s, "4"))),
        (
            "alarm_detail",
            Box::new(|s| {
                keys(s, "4");
                key(s, KeyCode::Enter);
            }),
        ),
        ("metrics", Box::new(|s| keys(s, "5"))),
        ("notifications", Box::new(|s| keys(s, "6"))),
        ("help", Box::new(|s| keys(s, "?"))),
        ("help_search", Box::new(|s| keys(s, "?ack"))),
        ("confirm_backup", Box::new(|s| keys(s, "2jb"))),
        ("alarm_form", Box::new(|s| keys(s, "2ja"))),
        ("acknowledge", Box::new(|s| keys(s, "4jxneeds a look"))),
        ("command_line", Box::new(|s| keys(s, ":ala"))),
        (
            "metric_browser",
            Box::new(|s| {
                keys(s, ":metric");
                key(s, KeyCode::Enter);
                keys(s, "cpu");
            }),
        ),
        ("filter", Box::new(|s| keys(s, "2/web"))),
    ]
}

#[test]
fn every_view_at_80x24_and_160x48() {
    for (name, go) in cases() {
        for (w, h) in [(80u16, 24u16), (160, 48)] {
            let mut s = fixture::state();
            go(&mut s);
            insta::assert_snapshot!(format!("{name}_{w}x{h}"), screen(&s, w, h));
        }
    }
}

#[test]
fn read_only_help_hides_the_mutating_keys() {
    let mut s = fixture::state();
    s.read_only = true;
    keys(&mut s, "?");
    let text = screen(&s, 80, 24);
    insta::assert_snapshot!("help_read_only_80x24", text);
    assert!(!text.contains("back up the selected volume"));
    assert!(text.contains("read-only"));
}

#[test]
fn too_small_screen() {
    let s = fixture::state();
    let text = screen(&s, 50, 12);
    assert!(text.contains("terminal too small"), "{text}");
    insta::assert_snapshot!("too_small_50x12", text);
}

#[test]
fn monochrome_theme_uses_no_colour_and_shades_the_band() {
    let mut s = fixture::state_with(fixture::FixtureSize::default(), "monochrome");
    keys(&mut s, "2j");
    key(&mut s, KeyCode::Enter);
    let mut t = Terminal::new(TestBackend::new(80, 24)).unwrap();
    t.draw(|f| watchband::ui::render(f, &s)).unwrap();
    let buf = t.backend().buffer();
    let mut shaded = 0;
    for cell in buf.content() {
        assert!(
            matches!(cell.fg, ratatui::style::Color::Reset)
                && matches!(cell.bg, ratatui::style::Color::Reset),
            "colour in monochrome: {cell:?}"
        );
        if cell.symbol() == "░" {
            shaded += 1;
        }
    }
    assert!(shaded > 20, "the band is shaded with ░ ({shaded} cells)");
}

#[test]
fn the_band_is_a_background_fill_under_the_line() {
    let mut s = fixture::state();
    keys(&mut s, "2");
    key(&mut s, KeyCode::Enter);
    let mut t = Terminal::new(TestBackend::new(160, 48)).unwrap();
    t.draw(|f| watchband::ui::render(f, &s)).unwrap();
    let band = s.theme.style(watchband::theme::Role::Band).bg.unwrap();
    let buf = t.backend().buffer();
    let filled = buf.content().iter().filter(|c| c.bg == band).count();
    // Braille cells of the series line that keep the band as their background
    let line_over_band = buf
        .content()
        .iter()
        .filter(|c| {
            c.bg == band && ('\u{2801}'..='\u{28ff}').contains(&c.symbol().chars().next().unwrap())
        })
        .count();
    assert!(filled > 100, "band cells: {filled}");
    assert!(line_over_band > 10, "line over band: {line_over_band}");
}

#[test]
fn hostile_text_never_reaches_a_cell() {
    let mut s = fixture::state();
    keys(&mut s, "3");
    for (w, h) in [(80u16, 24u16), (160, 48)] {
        let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
        t.draw(|f| watchband::ui::render(f, &s)).unwrap();
        for cell in t.backend().buffer().content() {
            assert!(!cell.symbol().chars().any(|c| c.is_control()), "{cell:?}");
        }
    }
}
