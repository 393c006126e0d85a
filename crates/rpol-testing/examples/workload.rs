//! Writes the generated workload of issue 18 into a directory for `rpol bench`:
//! `cargo run -p rpol-testing --example workload -- DIR [FEATURES]`.

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(dir) = args.next() else {
        eprintln!("usage: workload DIR [FEATURES]");
        std::process::exit(2);
    };
    let n = args.next().and_then(|a| a.parse().ok()).unwrap_or(2_000);
    if let Err(e) = rpol_testing::workload::write_to(std::path::Path::new(&dir), n) {
        eprintln!("error: cannot write `{dir}`: {e}");
        std::process::exit(1);
    }
}
