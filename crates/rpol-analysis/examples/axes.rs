//! Prints the region split of a policy: `cargo run -p rpol-analysis --example axes -- policies/home`.
fn main() {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "policies/home".into());
    let files = rpol_check::load::read_policy(std::path::Path::new(&path)).expect("read");
    let checked = rpol_check::check(files, None, &rpol_check::load::read_registry);
    let Some(p) = checked.policy else {
        eprintln!("check errors");
        std::process::exit(1);
    };
    let reads = rpol_analysis::literals::collect(&[&p.model], &[]).expect("collect");
    let space = rpol_analysis::regions::Space::build(&[&p.model], &reads).expect("space");
    for a in &space.axes {
        let labels: Vec<&str> = a.classes.iter().map(|c| c.label.as_str()).collect();
        println!(
            "{} ({}): {}",
            a.field.display(),
            a.classes.len(),
            labels.join(" | ")
        );
    }
    println!("regions: {:?}", space.count());
}
