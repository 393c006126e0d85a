//! Renaming a declared name: every declaration and use in the policy files and
//! in the registry YAML (whose classes, modes, purposes and consent topics are
//! the policy's names), refused where the result would not check.

use crate::index::{Index, Loc, SymbolId};

/// Whether the symbol can be renamed, with the reason when it cannot.
pub fn can_rename(index: &Index, id: SymbolId) -> Result<(), String> {
    let sym = index.symbol(id).ok_or("nothing to rename here")?;
    if !crate::index::renamable(sym.kind) {
        return Err(format!(
            "`{}` is a registry feature: rename it in the registry, which other policies may share",
            sym.name
        ));
    }
    Ok(())
}

/// The places to replace with `new_name`.
pub fn rename(index: &Index, id: SymbolId, new_name: &str) -> Result<Vec<Loc>, String> {
    can_rename(index, id)?;
    let sym = index.symbol(id).ok_or("nothing to rename here")?;
    valid_name(new_name)?;
    if new_name == sym.name {
        return Ok(Vec::new());
    }
    if index.find(sym.kind, sym.parent, new_name).is_some() {
        return Err(format!(
            "a {} named `{new_name}` is already declared",
            sym.kind.describe()
        ));
    }
    Ok(index
        .occurrences_of(id)
        .map(|o| Loc {
            file: o.file,
            span: o.span,
        })
        .collect())
}

/// An identifier (docs/reference.md, Lexical structure) that the parser reads as a name: not a keyword, and
/// not a path root (a bare `tenant` in a condition is the path, not a name).
pub fn valid_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !ok {
        return Err(format!(
            "`{name}` is not a name: use letters, digits and `_`, not starting with a digit"
        ));
    }
    if rpol_syntax::is_keyword(name) || rpol_syntax::PATH_ROOTS.contains(&name) {
        return Err(format!("`{name}` is a keyword of RPOL"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_identifiers_and_not_keywords() {
        assert!(valid_name("user_cf").is_ok());
        assert!(valid_name("_x9").is_ok());
        assert!(valid_name("9x").is_err());
        assert!(valid_name("a-b").is_err());
        assert!(valid_name("").is_err());
        assert!(valid_name("forbid").is_err());
        assert!(valid_name("tenant").is_err());
    }
}
