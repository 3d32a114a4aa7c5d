//! Render cost of a full frame at 200×60 with 1,000 volumes and 4 streams × 10,000 points
//! (target: ≤ 2 ms per frame). Each view is measured on the same state.
//!
//! The fleet group (target: ≤ 5 ms): 10,000 volumes and 1,000 alarms, where each iteration
//! changes the sort or the filter (as a key press does) and draws the 200×60 frame, so the
//! figure is what the operator waits for between the key and the screen.

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

/// A full redraw: the previous buffer is cleared so that no cell is skipped by the diff.
fn redraw(terminal: &mut Terminal<TestBackend>, s: &AppState) {
    terminal.clear().unwrap();
    terminal
        .draw(|f| watchband::ui::render(f, black_box(s)))
        .unwrap();
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
                redraw(&mut terminal, &s);
            })
        });
    }
    group.finish();
}

/// 10,000 volumes (30 days of backups each) and 1,000 alarms on them.
fn fleet_state() -> AppState {
    let mut s = fixture::state_with(
        FixtureSize {
            volumes: 10_000,
            days: 30,
            devices: 4,
            points_per_device: 600,
        },
        "default",
    );
    let template = s.alarms[0].clone();
    let alarms: Vec<watchband::pipeline::AlarmView> = s
        .volumes
        .iter()
        .take(1_000)
        .enumerate()
        .map(|(i, v)| {
            let mut definition = template.definition.clone();
            definition.name = watchband::interop::backup_alarm_name(&v.arn);
            watchband::pipeline::AlarmView {
                arn: format!(
                    "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:{}",
                    definition.name
                ),
                definition,
                state: match i % 10 {
                    0 => watchband::cloud::AlarmState::Alarm,
                    1 => watchband::cloud::AlarmState::InsufficientData,
                    _ => watchband::cloud::AlarmState::Ok,
                },
                reason: format!("Threshold Crossed: datapoint {i}"),
                state_updated: s.now - chrono::Duration::minutes(i as i64),
                acknowledgement: None,
                volume_arn: Some(v.arn.clone()),
                snoozed_until: None,
            }
        })
        .collect();
    update(
        &mut s,
        Input::Event(watchband::pipeline::Event::Alarms(alarms)),
    );
    assert_eq!(s.volumes.len(), 10_000);
    assert_eq!(s.alarms.len(), 1_000);
    s
}

fn fleet(c: &mut Criterion) {
    let base = fleet_state();
    let mut group = c.benchmark_group("fleet_10000_volumes_1000_alarms_200x60");
    for (name, view) in [("backups", '2'), ("alarms", '4')] {
        let mut s = base.clone();
        key(&mut s, KeyCode::Char(view));
        let mut terminal = Terminal::new(TestBackend::new(200, 60)).unwrap();
        group.bench_function(format!("{name}_sort_and_draw"), |b| {
            b.iter(|| {
                // `o`: the next sort column, then the frame that shows it.
                key(&mut s, KeyCode::Char('o'));
                redraw(&mut terminal, &s);
            })
        });
        let mut s = base.clone();
        key(&mut s, KeyCode::Char(view));
        let filters = ["web", "db-0", "anomaly", "alarm", ""];
        let mut i = 0;
        group.bench_function(format!("{name}_filter_and_draw"), |b| {
            b.iter(|| {
                s.filter = filters[i % filters.len()].to_string();
                i += 1;
                redraw(&mut terminal, &s);
            })
        });
    }
    let s = base.clone();
    let mut terminal = Terminal::new(TestBackend::new(200, 60)).unwrap();
    group.bench_function("overview_problems", |b| {
        b.iter(|| {
            redraw(&mut terminal, &s);
        })
    });
    group.finish();
}

criterion_group!(benches, bench, fleet);
criterion_main!(benches);
