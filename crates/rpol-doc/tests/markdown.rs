//! The Markdown sheet of the bundled home policy, as a reviewer reads it in a
//! pull request (the snapshot is the whole sheet).

mod common;

#[test]
fn home_sheet_markdown() {
    let (sheet, _) = common::sheet(&common::root().join("policies/home"), "policies/home");
    insta::assert_snapshot!(rpol_doc::markdown::render(&sheet));
}
