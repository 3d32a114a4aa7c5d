//! Speed of the detection core (criterion): the seasonal band (bar: ≥ 5 M points/s on one
//! core), RCF with NAB's setup (100 trees, 256 samples, shingle 1; bar: ≥ 15,000 points/s
//! score + update), `auto`, and the serialised state size of each detector (printed once).

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use watchband::detect::stats::Rng;
use watchband::detect::{
    Algo, AnyDetector, BandConfig, BandDetector, Detector, DetectorConfig, RcfConfig, RcfDetector,
};

/// Five-minute series with a daily wave and noise.
fn series(n: usize) -> Vec<(i64, f64)> {
    let mut rng = Rng::new(1);
    (0..n)
        .map(|i| {
            let t = 1_704_067_200 + 300 * i as i64;
            let wave = 10.0 * ((t % 86_400) as f64 / 86_400.0 * std::f64::consts::TAU).sin();
            (t, 50.0 + wave + 4.0 * (rng.next_f64() - 0.5))
        })
        .collect()
}

fn feed(det: &mut impl Detector, s: &[(i64, f64)]) {
    for &(t, v) in s {
        black_box(det.observe(t, v).unwrap());
    }
}

fn state_sizes() {
    let s = series(5000);
    let mut band = BandDetector::new(&BandConfig::default()).unwrap();
    feed(&mut band, &s);
    let mut rcf = RcfDetector::new(&RcfConfig::nab(), &BandConfig::default()).unwrap();
    feed(&mut rcf, &s);
    let mut rcf002 = RcfDetector::new(&RcfConfig::default(), &BandConfig::default()).unwrap();
    feed(&mut rcf002, &s);
    let mut auto = AnyDetector::new(&DetectorConfig {
        algo: Algo::Auto,
        ..Default::default()
    })
    .unwrap();
    feed(&mut auto, &s);
    let size = |json: String| json.len();
    eprintln!("state size (serde_json, after 5000 points of 5-minute data):");
    eprintln!(
        "  band:                 {:>9} bytes",
        size(serde_json::to_string(&band).unwrap())
    );
    eprintln!(
        "  rcf (100 trees, 256): {:>9} bytes",
        size(serde_json::to_string(&rcf).unwrap())
    );
    eprintln!(
        "  rcf (50 trees, 100):  {:>9} bytes",
        size(serde_json::to_string(&rcf002).unwrap())
    );
    eprintln!(
        "  auto:                 {:>9} bytes",
        size(serde_json::to_string(&auto).unwrap())
    );
}

fn bench(c: &mut Criterion) {
    state_sizes();
    let warm = series(20_000);
    let data = series(100_000);

    let mut g = c.benchmark_group("band");
    g.throughput(Throughput::Elements(data.len() as u64));
    let mut trained = BandDetector::new(&BandConfig::default()).unwrap();
    feed(&mut trained, &warm);
    g.bench_function("observe", |b| {
        b.iter_batched_ref(
            || trained.clone(),
            |d| feed(d, &data),
            BatchSize::LargeInput,
        )
    });
    g.finish();

    let small = &data[..5_000];
    let mut g = c.benchmark_group("rcf_nab_100x256_shingle1");
    g.throughput(Throughput::Elements(small.len() as u64));
    g.sample_size(10);
    let mut trained = RcfDetector::new(&RcfConfig::nab(), &BandConfig::default()).unwrap();
    feed(&mut trained, &warm[..5_000]);
    g.bench_function("score_update", |b| {
        b.iter_batched_ref(
            || trained.clone(),
            |d| feed(d, small),
            BatchSize::LargeInput,
        )
    });
    g.finish();

    let mut g = c.benchmark_group("auto");
    g.throughput(Throughput::Elements(small.len() as u64));
    g.sample_size(10);
    let mut trained = AnyDetector::new(&DetectorConfig::default()).unwrap();
    feed(&mut trained, &warm[..5_000]);
    g.bench_function("observe", |b| {
        b.iter_batched_ref(
            || trained.clone(),
            |d| feed(d, small),
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
