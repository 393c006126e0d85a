//! The Markdown sheet of the bundled home policy, as a reviewer reads it in a
//! pull request (the snapshot is the whole sheet).

mod common;

#[test]
fn home_sheet_markdown() {
    let (sheet, _) = common::sheet(&common::root().join("policies/home"), "policies/home");
    // File names are as the checker read them; the snapshot must not depend
    // on where the repository is checked out.
    let root = format!("{}/", common::root().display());
    insta::assert_snapshot!(rpol_doc::markdown::render(&sheet).replace(&root, ""));
}
