//! Render cost of a full frame at 200×60 with 1,000 volumes and 4 streams × 10,000 points
//! (target: ≤ 2 ms per frame). Each view is measured on the same state.

use criterion::{Criterion, criterion_group, criterion_main};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::{Terminal, backend::TestBackend};
use std::hint::black_box;
use watchband::app::fixture::{self, FixtureSize};
use watchband::app::state::{AppState, Point};
use watchband::app::{Input, update};

fn key(s: &mut AppState, c: KeyCode) {
    update(s, Input::Key(KeyEvent::new(c, KeyModifiers::NONE)));
}

fn big_state() -> AppState {
    let mut s = fixture::state_with(
        FixtureSize {
            volumes: 1_000,
            days: 60,
            devices: 4,
            points_per_device: 10_000,
        },
        "default",
    );
    // A metric with 10,000 points too, so a whole-history chart is measured.
    if let Some(m) = s.metrics.first_mut() {
        let first = m.scored.points.back().map(|p| p.t).unwrap_or(0) - 10_000 * 60;
        m.scored.points.clear();
        for k in 0..10_000i64 {
            let v = 50.0 + ((k as f64) / 300.0).sin() * 20.0;
            m.scored.push(Point {
                t: first + k * 60,
                value: v + if k % 997 == 0 { 40.0 } else { 0.0 },
                band: Some((v - 8.0, v + 8.0)),
                anomalous: k % 997 == 0,
            });
        }
    }
    s
}

fn bench(c: &mut Criterion) {
    let base = big_state();
    let mut group = c.benchmark_group("frame_200x60");
    for (name, keys) in [
        ("overview", vec![]),
        ("backups_1000_volumes", vec![KeyCode::Char('2')]),
        ("volume_detail", vec![KeyCode::Char('2'), KeyCode::Enter]),
        ("streams_4x10000", vec![KeyCode::Char('3')]),
        ("alarms", vec![KeyCode::Char('4')]),
        ("metrics_10000_points", vec![KeyCode::Char('5')]),
        ("notifications", vec![KeyCode::Char('6')]),
    ] {
        let mut s = base.clone();
        for k in keys {
            key(&mut s, k);
        }
        let mut terminal = Terminal::new(TestBackend::new(200, 60)).unwrap();
        group.bench_function(name, |b| {
            b.iter(|| {
                // A full redraw every time: clear the previous buffer so no diff is skipped.
                terminal.clear().unwrap();
                terminal
                    .draw(|f| watchband::ui::render(f, black_box(&s)))
                    .unwrap();
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
