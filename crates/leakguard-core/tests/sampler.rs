//! The sampler's state machine: rings bounded by their capacity, one alert per leak episode,
//! series and sensitivity names, and the RSS loop ending at once on stop().

use leakguard_core::sampling::{GcSample, HeapSample, Sampler, Sensitivity, Series, TrendOptions};
use leakguard_core::Error;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn gc(i: u64, baseline: u64) -> GcSample {
    GcSample {
        time: 1_000_000 + i * 60_000,
        baseline,
        heap_used: baseline + 1000,
    }
}

#[test]
fn a_growing_baseline_alerts_once_per_episode() {
    let s = Sampler::new(100, Sensitivity::High.options());
    let mut alerts = 0;
    for i in 0..60 {
        let (_, alert) = s.push_gc(gc(i, 50_000_000 + i * 2_000_000));
        alerts += u32::from(alert);
    }
    assert_eq!(alerts, 1, "one alert for one sustained growth");
    assert!(s.trend(Series::Baseline).leak);
    // A flat heap re-arms nothing and raises nothing.
    let flat = Sampler::new(100, TrendOptions::normal());
    for i in 0..60 {
        assert!(!flat.push_gc(gc(i, 50_000_000)).1);
    }
    assert!(!flat.trend(Series::Baseline).leak);
}

#[test]
fn rings_keep_the_newest_samples_and_count_all() {
    let s = Sampler::new(4, TrendOptions::normal());
    for i in 0..10u64 {
        s.push_heap(HeapSample {
            time: i,
            rss: 0,
            heap_total: 0,
            heap_used: i,
            external: 0,
            array_buffers: 0,
        });
        s.push_gc(gc(i, i));
    }
    let samples = s.samples();
    assert_eq!(
        samples.heap.iter().map(|h| h.time).collect::<Vec<_>>(),
        [6, 7, 8, 9]
    );
    let stats = s.stats();
    assert_eq!(
        (stats.gc_samples, stats.gc_samples_taken, stats.capacity),
        (4, 10, 4)
    );
}

#[test]
fn names_parse_or_fail_with_invalid_arg() {
    assert_eq!("heapUsed".parse::<Series>().unwrap(), Series::HeapUsed);
    assert_eq!("low".parse::<Sensitivity>().unwrap(), Sensitivity::Low);
    assert!(matches!("x".parse::<Series>(), Err(Error::InvalidArg(_))));
    assert!(matches!(
        "max".parse::<Sensitivity>(),
        Err(Error::InvalidArg(_))
    ));
}

#[test]
fn stop_ends_the_rss_loop_at_once() {
    let s = Arc::new(Sampler::new(16, TrendOptions::normal()));
    let looping = s.clone();
    // A long interval: only stop() can end the wait early.
    let t = std::thread::spawn(move || looping.run_rss_loop(Duration::from_secs(3600)));
    let started = Instant::now();
    while s.stats().rss_samples_taken == 0 && s.stats().rss_error.is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "no first sample"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    let stopping = Instant::now();
    s.stop();
    t.join().unwrap();
    assert!(stopping.elapsed() < Duration::from_secs(5));
    assert!(s.is_stopped());
    if cfg!(target_os = "linux") {
        assert_eq!(s.stats().rss_samples, 1);
        assert!(s.stats().last_rss.is_some_and(|r| r > 0));
    }
}
