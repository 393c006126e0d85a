//! Writes the hostile policies of issue 16 (item 5) under a directory, one
//! sub-directory per shape, for timing `rpol check` and `rpol lint`:
//!
//! ```sh
//! cargo run --release -p rpol-check --example hostile -- /tmp/hostile
//! time target/release/rpol lint /tmp/hostile/sets_1000
//! ```

#[path = "../benches/common/hostile.rs"]
mod hostile;

fn main() -> std::io::Result<()> {
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "hostile".to_string());
    for (name, text, registry) in hostile::shapes() {
        let dir = std::path::Path::new(&out).join(name);
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join("policy.rpol"), &text)?;
        std::fs::write(dir.join("features.yaml"), registry)?;
        println!("{}: {} lines", dir.display(), text.lines().count());
    }
    Ok(())
}
