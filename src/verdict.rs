//! `roundsVerdict`: the binding of the core's survivor-rounds rule (leakguard_core::rounds).
//! Converts the JSON the JS orchestration (lib/survivors.js) sends and delegates; the rule and
//! its numbers live in the core.

use leakguard_core::rounds::{rounds_verdict, Series, Unit};
use leakguard_core::Error as CoreError;
use napi_derive::napi;
use serde::Deserialize;

use crate::guard;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SeriesJs {
    label: String,
    unit: String,
    live: Vec<f64>,
    floor: f64,
    #[serde(default)]
    tolerance: f64,
}

#[derive(Deserialize)]
struct InputJs {
    calls: Vec<u64>,
    series: Vec<SeriesJs>,
}

/// `roundsVerdict(json)`: `{ calls: [cumulative calls per round], series: [{ label, unit:
/// 'objects'|'bytes', live: [...], floor, tolerance }] }` → the verdict as JSON (pure and fast:
/// runs on the calling thread).
#[napi(js_name = "roundsVerdict")]
pub fn rounds_verdict_js(input: String) -> napi::Result<String> {
    guard(|| {
        let input: InputJs = serde_json::from_str(&input)
            .map_err(|e| CoreError::InvalidArg(format!("roundsVerdict input: {e}")))?;
        let series = input
            .series
            .into_iter()
            .map(|s| {
                let unit = match s.unit.as_str() {
                    "objects" => Unit::Objects,
                    "bytes" => Unit::Bytes,
                    other => {
                        return Err(CoreError::InvalidArg(format!(
                            "roundsVerdict: unit must be 'objects' or 'bytes', got {other:?}"
                        )))
                    }
                };
                Ok(Series {
                    label: s.label,
                    unit,
                    live: s.live,
                    floor: s.floor,
                    tolerance: s.tolerance,
                })
            })
            .collect::<Result<Vec<_>, CoreError>>()?;
        let v = rounds_verdict(&input.calls, &series)?;
        serde_json::to_string(&v)
            .map_err(|e| CoreError::InvalidArg(format!("roundsVerdict output: {e}")))
    })
}

/// `inliningHolds(delta)`: the process-wide count of leak checks that want V8's inlining off
/// (leakguard_core::holds), after adding `delta`; lib/frames.js switches the flags at 0 ↔ 1.
#[napi]
pub fn inlining_holds(delta: i32) -> napi::Result<i32> {
    guard(|| Ok(leakguard_core::holds::inlining_holds(i64::from(delta)) as i32))
}
