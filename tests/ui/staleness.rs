//! Stale is not current: the Streams view's shard numbers carry the time they were read; when
//! the source fails they are dimmed with their age and the rate says it is unknown; an iterator
//! age reads as a duration and warns near the stream's retention.

use ratatui::{Terminal, backend::TestBackend};
use watchband::app::fixture;
use watchband::app::state::{AppState, View};
use watchband::app::{Input, update};
use watchband::pipeline::{Event, HealthState, ShardStats, Source, SourceHealth, StreamStats};

fn shards_row(state: &AppState) -> String {
    let mut t = Terminal::new(TestBackend::new(120, 40)).unwrap();
    t.draw(|f| watchband::ui::render(f, state)).unwrap();
    let buf = t.backend().buffer();
    (0..buf.area.height)
        .map(|y| {
            (0..buf.area.width)
                .map(|x| buf[(x, y)].symbol().to_string())
                .collect::<String>()
        })
        .find(|l| l.contains("shardId-000000000000"))
        .expect("the shard's row")
}

fn with_shard(millis_behind: i64, minutes_ago: i64) -> AppState {
    let mut s = fixture::state();
    s.view = View::Streams;
    let read_at = s.now - chrono::Duration::minutes(minutes_ago);
    update(
        &mut s,
        Input::Event(Event::Stream(StreamStats {
            stream: "m03p02_raw_data_stream".into(),
            shards: vec![ShardStats {
                shard_id: "shardId-000000000000".into(),
                parent: None,
                finished: false,
                records_per_sec: 4.0,
                millis_behind,
                records_total: 10,
                rejected_total: 0,
                last_rejected: vec![],
                checkpoint: Some("1".into()),
                read_at: Some(read_at),
            }],
        })),
    );
    s
}

fn fail_streams(s: &mut AppState) {
    let now = s.now;
    update(
        s,
        Input::Event(Event::Health(SourceHealth {
            source: Source::Streams,
            state: HealthState::Degraded,
            last_error: Some("kinesis GetRecords: expired credentials".into()),
            last_error_resource: None,
            last_error_kind: Some(watchband::cloud::ErrorKind::ExpiredCredentials),
            last_error_at: Some(now),
            since: now,
        })),
    );
}

#[test]
fn iterator_age_is_a_duration() {
    let row = shards_row(&with_shard(76_400_485, 0));
    assert!(row.contains("21h13m"), "{row}");
    assert!(!row.contains("76400485"), "{row}");
}

#[test]
fn an_iterator_age_near_retention_warns() {
    let row = shards_row(&with_shard(22 * 3_600_000, 0));
    assert!(row.contains("⚠ 22h00m"), "{row}");
    let row = shards_row(&with_shard(3_000, 0));
    assert!(!row.contains('⚠'), "{row}");
}

#[test]
fn a_failing_source_shows_its_last_values_with_their_age() {
    let mut s = with_shard(0, 3);
    let healthy = shards_row(&s);
    assert!(
        healthy.contains("4.0") && !healthy.contains("ago"),
        "{healthy}"
    );
    fail_streams(&mut s);
    let row = shards_row(&s);
    // The rate cannot be known; the iterator age is the last one read, three minutes ago.
    assert!(!row.contains("4.0"), "{row}");
    assert!(row.contains("? 3m ago"), "{row}");
    assert!(row.contains("0 ms"), "{row}");
}

// ---------------------------------------------------------------- every view (point 7)

fn fail(s: &mut AppState, source: Source) {
    let now = s.now;
    update(
        s,
        Input::Event(Event::Health(SourceHealth {
            source,
            state: HealthState::Degraded,
            last_error: Some("expired credentials".into()),
            last_error_resource: None,
            last_error_kind: Some(watchband::cloud::ErrorKind::ExpiredCredentials),
            last_error_at: Some(now),
            since: now,
        })),
    );
}

fn later(s: &mut AppState, minutes: i64) {
    let t = s.now + chrono::Duration::minutes(minutes);
    update(s, Input::Clock(t));
}

/// The screen's text and the style of the cell where `needle` starts (on the first line
/// holding it below the view's top border).
fn screen_with_style(s: &AppState, needle: &str) -> (String, ratatui::style::Style) {
    let mut t = Terminal::new(TestBackend::new(120, 40)).unwrap();
    t.draw(|f| watchband::ui::render(f, s)).unwrap();
    let buf = t.backend().buffer();
    let lines: Vec<String> = (0..buf.area.height)
        .map(|y| {
            (0..buf.area.width)
                .map(|x| buf[(x, y)].symbol().to_string())
                .collect()
        })
        .collect();
    let y = lines
        .iter()
        .enumerate()
        .position(|(y, l)| (y >= 2 || s.view == View::Overview) && l.contains(needle))
        .unwrap_or_else(|| panic!("{needle} on screen:\n{}", lines.join("\n")));
    let x = lines[y].find(needle).unwrap();
    let x = lines[y][..x].chars().count() as u16;
    (lines.join("\n"), buf[(x, y as u16)].style())
}

#[test]
fn each_view_dims_a_failing_source_s_values_with_their_age() {
    for (view, source, row) in [
        (View::Backups, Source::Backups, "prod-db-02"),
        (View::Alarms, Source::Alarms, "prod-db-02"),
        (View::Metrics, Source::Metrics, "CPUUtilization"),
    ] {
        let mut s = fixture::state();
        s.view = view;
        let (healthy, style) = screen_with_style(&s, row);
        assert!(!healthy.contains("failing"), "{view:?}:\n{healthy}");
        let dim = s.theme.style(watchband::theme::Role::Dim);
        assert_ne!(style.fg, dim.fg, "{view:?} is not dimmed while healthy");
        fail(&mut s, source);
        later(&mut s, 3);
        let (text, style) = screen_with_style(&s, row);
        let note = format!("⚠ {} failing · read 3m ago", source.label());
        assert!(text.contains(&note), "{view:?}:\n{text}");
        assert_eq!(style.fg, dim.fg, "{view:?}'s rows are dimmed");
        // Healthy again: current again.
        let mut back = s
            .health
            .iter()
            .find(|h| h.source == source)
            .unwrap()
            .clone();
        back.state = HealthState::Ok;
        update(&mut s, Input::Event(Event::Health(back)));
        let (text, _) = screen_with_style(&s, row);
        assert!(!text.contains("failing"), "{view:?}:\n{text}");
    }
}

#[test]
fn a_source_that_never_answered_is_unknown_not_empty() {
    let mut s = AppState::new(
        fixture::fixture_now(),
        "aws",
        false,
        watchband::theme::Theme::default_theme(),
    );
    for source in [Source::Backups, Source::Alarms, Source::Notifications] {
        fail(&mut s, source);
    }
    let (text, _) = screen_with_style(&s, "volumes");
    assert!(text.contains("— volumes ·"), "{text}");
    assert!(text.contains("— alarms in ALARM ·"), "{text}");
    assert!(text.contains("— notifications"), "{text}");
    assert!(!text.contains("0 volumes"), "{text}");
    s.view = View::Backups;
    let (text, _) = screen_with_style(&s, "Name");
    assert!(
        text.contains("⚠ backups failing · nothing read yet"),
        "{text}"
    );
}

#[test]
fn the_overview_s_counters_carry_their_age_when_their_source_fails() {
    let mut s = fixture::state();
    let (before, _) = screen_with_style(&s, "volumes");
    assert!(before.contains("10 volumes ·"), "{before}");
    fail(&mut s, Source::Backups);
    fail(&mut s, Source::Streams);
    later(&mut s, 5);
    let (text, style) = screen_with_style(&s, "10 volumes (5m ago)");
    assert_eq!(style.fg, s.theme.style(watchband::theme::Role::Dim).fg);
    // The rate is of now, which a failing stream source cannot tell.
    assert!(text.contains("? rec/s"), "{text}");
    assert!(!text.contains("5.0 rec/s"), "{text}");
}
