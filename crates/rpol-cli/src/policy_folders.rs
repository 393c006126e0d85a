//! A folder of several policies, as `cargo` finds the packages of a
//! workspace: `rpol check policies/` checks `policies/home` and
//! `policies/enterprise` each on its own.
//!
//! A *policy folder* is a directory holding a file with the `policy` header
//! (a line that starts with `policy NAME {`, as `rpol fmt` writes it). Its
//! policy is every `.rpol` file in it and below it, except the files of a
//! policy folder nested inside it. A directory given on the command line is
//! split into its policy folders when they are at least two and every one of
//! its `.rpol` files lies in one of them; otherwise it is one policy, as
//! before (so two headers in one directory are still an E0203, and a stray
//! file outside every policy folder is never left unchecked).

use std::path::{Path, PathBuf};

use rpol_check::SourceInput;

/// The `.rpol` files under one directory: one policy, or several policy
/// folders (in path order) with their files.
pub enum Layout {
    One(Vec<SourceInput>),
    Several(Vec<(PathBuf, Vec<SourceInput>)>),
}

/// Groups `files` (all under one directory) by policy folder.
pub fn split(files: Vec<SourceInput>) -> Layout {
    let mut folders: Vec<PathBuf> = files
        .iter()
        .filter(|f| has_policy_header(&f.text))
        .filter_map(|f| Path::new(&f.name).parent().map(Path::to_path_buf))
        .collect();
    folders.sort();
    folders.dedup();
    if folders.len() < 2 {
        return Layout::One(files);
    }
    // The deepest folder that holds a file is its policy's: a nested policy
    // folder takes its files away from the one around it.
    let owner = |name: &str| -> Option<usize> {
        (0..folders.len())
            .filter(|&i| Path::new(name).starts_with(&folders[i]))
            .max_by_key(|&i| folders[i].components().count())
    };
    if files.iter().any(|f| owner(&f.name).is_none()) {
        return Layout::One(files);
    }
    let mut groups: Vec<(PathBuf, Vec<SourceInput>)> =
        folders.iter().map(|d| (d.clone(), Vec::new())).collect();
    for f in files {
        if let Some(i) = owner(&f.name) {
            groups[i].1.push(f);
        }
    }
    Layout::Several(groups)
}

/// Whether a line of `text` starts a `policy` header: `policy`, blanks, a
/// name, blanks, `{`.
fn has_policy_header(text: &str) -> bool {
    text.lines().any(|line| {
        let Some(rest) = line.trim_start().strip_prefix("policy") else {
            return false;
        };
        let name = rest.trim_start();
        if name.len() == rest.len() {
            return false; // `policy_x`, not the keyword
        }
        let after = name.trim_start_matches(|c: char| c.is_ascii_alphanumeric() || c == '_');
        after.len() < name.len() && after.trim_start().starts_with('{')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(name: &str, text: &str) -> SourceInput {
        SourceInput {
            name: name.into(),
            text: text.into(),
        }
    }

    fn names(groups: &[(PathBuf, Vec<SourceInput>)]) -> Vec<(String, Vec<String>)> {
        groups
            .iter()
            .map(|(d, fs)| {
                (
                    d.display().to_string(),
                    fs.iter().map(|f| f.name.clone()).collect(),
                )
            })
            .collect()
    }

    #[test]
    fn a_header_line_is_the_keyword_a_name_and_a_brace() {
        assert!(has_policy_header("# x\npolicy home_feed {\n}"));
        assert!(has_policy_header("  policy p{ version: \"1\" }"));
        assert!(!has_policy_header("policy_x { }"));
        assert!(!has_policy_header("# policy p {"));
        assert!(!has_policy_header("policy {"));
        assert!(!has_policy_header("source policy_source { }"));
    }

    #[test]
    fn two_policy_folders_split_and_nested_ones_keep_their_files() {
        let files = vec![
            input("p/a/a.rpol", "policy a {\n}"),
            input("p/a/sub/t.rpol", "test t { }"),
            input("p/a/sub/n/n.rpol", "policy n {\n}"),
            input("p/b/b.rpol", "policy b {\n}"),
        ];
        let Layout::Several(groups) = split(files) else {
            panic!("not split")
        };
        assert_eq!(
            names(&groups),
            [
                (
                    "p/a".into(),
                    vec!["p/a/a.rpol".into(), "p/a/sub/t.rpol".into()]
                ),
                ("p/a/sub/n".into(), vec!["p/a/sub/n/n.rpol".into()]),
                ("p/b".into(), vec!["p/b/b.rpol".into()]),
            ]
        );
    }

    #[test]
    fn one_header_a_shared_folder_or_a_stray_file_is_one_policy() {
        let one = vec![input("p/a.rpol", "policy a {\n}"), input("p/t/t.rpol", "")];
        assert!(matches!(split(one), Layout::One(f) if f.len() == 2));
        let same_dir = vec![
            input("p/a.rpol", "policy a {\n}"),
            input("p/b.rpol", "policy b {\n}"),
        ];
        assert!(
            matches!(split(same_dir), Layout::One(_)),
            "two headers in one folder stay an E0203"
        );
        let stray = vec![
            input("p/a/a.rpol", "policy a {\n}"),
            input("p/b/b.rpol", "policy b {\n}"),
            input("p/stray.rpol", "source s { }"),
        ];
        assert!(
            matches!(split(stray), Layout::One(_)),
            "a file outside every policy folder"
        );
    }
}
