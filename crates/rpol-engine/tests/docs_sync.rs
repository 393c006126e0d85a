//! docs/embedding.md shows the example that CI compiles, verbatim.

#[test]
fn embedding_doc_shows_the_compiled_example() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let doc = std::fs::read_to_string(root.join("docs/embedding.md")).unwrap();
    let example =
        std::fs::read_to_string(root.join("crates/rpol-engine/examples/embed.rs")).unwrap();
    assert!(
        doc.contains(&example),
        "docs/embedding.md is out of date with examples/embed.rs"
    );
}
