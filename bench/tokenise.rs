//! The bench's yardstick: one bare, single-threaded pass that reads a .heapsnapshot and splits
//! it into tokens (numbers parsed to u64, strings skipped with their escapes), keeping nothing.
//! bench/analyse.js compiles it with `rustc -O` into bench/out/ and reports leakguard's times as
//! multiples of this pass, measured in the same run (a ratio the machine's load moves less).
//!
//!   rustc -O -o bench/out/tokenise bench/tokenise.rs && bench/out/tokenise FILE

use std::io::Read;
use std::time::Instant;

fn main() {
    let path = std::env::args().nth(1).expect("usage: tokenise FILE");
    let t0 = Instant::now();
    let mut f = std::fs::File::open(&path).expect("open");
    let mut buf = vec![0u8; 1 << 20];
    let (mut numbers, mut strings, mut checksum) = (0u64, 0u64, 0u64);
    let (mut acc, mut in_number, mut in_string, mut escaped) = (0u64, false, false, false);
    loop {
        let n = f.read(&mut buf).expect("read");
        if n == 0 {
            break;
        }
        for &c in &buf[..n] {
            if in_string {
                if escaped {
                    escaped = false;
                } else if c == b'\\' {
                    escaped = true;
                } else if c == b'"' {
                    in_string = false;
                }
            } else if c.is_ascii_digit() {
                acc = acc.wrapping_mul(10).wrapping_add(u64::from(c - b'0'));
                in_number = true;
            } else {
                if in_number {
                    numbers += 1;
                    checksum = checksum.wrapping_add(acc);
                    acc = 0;
                    in_number = false;
                }
                if c == b'"' {
                    in_string = true;
                    strings += 1;
                }
            }
        }
    }
    let ms = t0.elapsed().as_secs_f64() * 1e3;
    println!(
        "\n@@RESULT {{\"ok\":true,\"ms\":{ms},\"numbers\":{numbers},\"strings\":{strings},\"checksum\":{checksum}}}"
    );
}
