//! Memory sampling for running processes: a fixed-size ring buffer of samples, the process
//! resident set size, and the trend test behind leak alerts.
//!
//! The binding runs a thread that reads [`read_rss`] into a [`Ring`] and feeds post-GC heap
//! figures from JS into another; [`trend`] decides whether that baseline is growing like a
//! leak. Everything is plain data so the maths can be tested with synthetic series.

mod ring;
mod rss;
mod trend;

pub use ring::Ring;
pub use rss::read_rss;
pub use trend::{mann_kendall, theil_sen, trend, AlertState, Point, Trend, TrendOptions};
