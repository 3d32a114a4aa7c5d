//! The screen the TUI shows when no AWS account can be opened (no credentials anywhere in the
//! default chain, or expired ones): what was tried and what to run, and the demo offered on a
//! key, never started silently.

use crate::theme::{Role, Theme};
use crate::ui::terminal::TerminalScreen;
use crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

/// Draws the screen: the reason (one line from the credential chain) and the two choices.
pub fn render(f: &mut Frame, reason: &str, theme: &Theme) {
    let area = f.area();
    f.render_widget(Block::default().style(theme.style(Role::Text)), area);
    let [_, body, _] = Layout::vertical([
        Constraint::Fill(1),
        Constraint::Length(12),
        Constraint::Fill(1),
    ])
    .areas(area);
    let [_, body, _] = Layout::horizontal([
        Constraint::Fill(1),
        Constraint::Max(76),
        Constraint::Fill(1),
    ])
    .areas(body);
    let text = vec![
        Line::from(Span::styled(
            crate::sanitize::clean(reason),
            theme.style(Role::Error),
        )),
        Line::default(),
        Line::from(vec![
            Span::styled("d", theme.style(Role::Header)),
            Span::raw("  run the demo: an embedded simulated account, marked DEMO"),
        ]),
        Line::from(vec![
            Span::styled("q", theme.style(Role::Header)),
            Span::raw("  quit"),
        ]),
    ];
    f.render_widget(
        Paragraph::new(text).wrap(Wrap { trim: true }).block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(theme.style(Role::DialogBorder))
                .title(Span::styled(" no AWS account ", theme.style(Role::Title))),
        ),
        body,
    );
}

/// Shows the screen until the user chooses: `true` for the demo (`d`), `false` to quit (`q`,
/// Esc, Ctrl-C). The terminal is restored before returning either way.
pub fn offer_demo(reason: &str, theme: &Theme, mouse: bool) -> std::io::Result<bool> {
    let mut screen = TerminalScreen::enter(mouse)?;
    loop {
        screen.draw_with(|f| render(f, reason, theme))?;
        match event::read()? {
            Event::Key(k) if k.kind != KeyEventKind::Release => match k.code {
                KeyCode::Char('d') | KeyCode::Char('D') => return Ok(true),
                KeyCode::Char('c') if k.modifiers.contains(KeyModifiers::CONTROL) => {
                    return Ok(false);
                }
                KeyCode::Char('q') | KeyCode::Esc => return Ok(false),
                _ => {}
            },
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::{Terminal, backend::TestBackend};

    #[test]
    fn the_screen_says_why_and_offers_the_demo() {
        let mut t = Terminal::new(TestBackend::new(80, 24)).unwrap();
        let theme = Theme::initial(None, false).unwrap();
        t.draw(|f| render(f, "no AWS credentials (no source gave credentials)", &theme))
            .unwrap();
        let text: String = t
            .backend()
            .buffer()
            .content()
            .iter()
            .map(|c| c.symbol())
            .collect();
        assert!(text.contains("no AWS credentials"), "{text}");
        assert!(text.contains("run the demo"), "{text}");
    }
}
