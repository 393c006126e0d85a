//! `rpol completions SHELL` and `rpol man`: generated from the command tree,
//! so they list exactly the commands and options this binary has.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use clap::CommandFactory;
use clap_complete::Shell;

use crate::Cli;
use crate::cli_error::CliError;

/// Writes the completion script for `shell` on stdout.
pub fn completions(shell: Shell) -> Result<ExitCode, CliError> {
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "rpol", &mut buf);
    // A closed pipe is not an error (`rpol completions bash | head`).
    let _ = std::io::stdout().write_all(&buf);
    Ok(ExitCode::SUCCESS)
}

/// `rpol.1` on stdout, or with `dir` one page per command (`rpol.1`,
/// `rpol-check.1`, `rpol-export-rego.1`, …) written into it.
pub fn man(dir: Option<&Path>) -> Result<ExitCode, CliError> {
    let cmd = Cli::command();
    let Some(dir) = dir else {
        let _ = std::io::stdout().write_all(&page(&cmd)?);
        return Ok(ExitCode::SUCCESS);
    };
    let write_err = |path: &Path, e: std::io::Error| CliError::Write {
        path: path.display().to_string(),
        reason: e.to_string(),
    };
    std::fs::create_dir_all(dir).map_err(|e| write_err(dir, e))?;
    let mut pages = Vec::new();
    collect(&cmd, "rpol", &mut pages);
    for (name, c) in &pages {
        let path = dir.join(format!("{name}.1"));
        std::fs::write(&path, page(c)?).map_err(|e| write_err(&path, e))?;
    }
    outln!(
        "wrote {} to {}",
        rpol_diag::plural(pages.len(), "man page"),
        dir.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Every command of the tree with its page name (`rpol-export-rego`).
fn collect(cmd: &clap::Command, name: &str, out: &mut Vec<(String, clap::Command)>) {
    out.push((name.to_string(), cmd.clone().display_name(name.to_string())));
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        collect(sub, &format!("{name}-{}", sub.get_name()), out);
    }
}

fn page(cmd: &clap::Command) -> Result<Vec<u8>, CliError> {
    let mut buf = Vec::new();
    clap_mangen::Man::new(cmd.clone())
        .render(&mut buf)
        .map_err(|e| CliError::Load(format!("man page: {e}"), None))?;
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every argument of every command says what it is for: `--help`, the
    /// man pages and the completions show it.
    #[test]
    fn every_argument_has_help() {
        fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for a in cmd.get_arguments() {
                let id = a.get_id().as_str();
                if id != "help" && id != "version" && a.get_help().is_none() {
                    missing.push(format!("{path} {id}"));
                }
            }
            if cmd.get_about().is_none() {
                missing.push(format!("{path} (the command itself)"));
            }
            for sub in cmd.get_subcommands() {
                walk(sub, &format!("{path} {}", sub.get_name()), missing);
            }
        }
        let mut missing = Vec::new();
        walk(&Cli::command(), "rpol", &mut missing);
        assert!(missing.is_empty(), "arguments without help: {missing:#?}");
    }

    #[test]
    fn the_command_tree_is_valid_and_names_every_page() {
        let cmd = Cli::command();
        cmd.clone().debug_assert();
        let mut pages = Vec::new();
        collect(&cmd, "rpol", &mut pages);
        let names: Vec<&str> = pages.iter().map(|(n, _)| n.as_str()).collect();
        for sub in cmd.get_subcommands() {
            let page = format!("rpol-{}", sub.get_name());
            assert!(names.contains(&page.as_str()), "{page}: {names:?}");
        }
        assert!(names.contains(&"rpol-export-rego"), "{names:?}");
    }
}
