//! Memory sampling for running processes: a fixed-size ring buffer of samples, the process
//! resident set size, and the trend test behind leak alerts.
//!
//! [`Sampler`] holds the rings and the alert state and runs the RSS loop on a thread the binding
//! starts; JS feeds it heap figures and post-GC baselines, and [`trend`] decides whether that
//! baseline is growing like a leak. Everything is plain data so the maths can be tested with
//! synthetic series.

mod ring;
mod rss;
mod sampler;
mod trend;

pub use ring::Ring;
pub use rss::read_rss;
pub use sampler::{
    GcSample, HeapSample, Sampler, SamplerStats, Samples, Sensitivity, Series, MAX_CAPACITY,
};
pub use trend::{
    mann_kendall, theil_sen, theil_sen_intercept, trend, AlertState, Point, Trend, TrendOptions,
};
