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
