//! Builds the [`Index`] from a check run's [`rpol_check::Resolution`]: the
//! checker records every declaration and every use it resolves (policy files
//! and the registry YAML alike), so the index only numbers them. Names the
//! checker could not resolve have no occurrence: it reported them.

use std::collections::HashMap;

use rpol_check::Checked;
use rpol_check::resolution::{NameKind, NameRef};

use crate::index::{Index, Loc, SymbolId};

pub fn build(checked: &Checked) -> Index {
    let res = &checked.resolution;
    let mut index = Index::default();
    let mut ids: HashMap<NameRef, SymbolId> = HashMap::new();
    // A variant's field is declared before it (the checker's order).
    for d in &res.declarations {
        let parent = d.name.parent.and_then(|field| {
            let field = NameRef {
                kind: NameKind::ContextField,
                id: field,
                parent: None,
            };
            ids.get(&field).copied()
        });
        let id = index.declare(
            d.name.kind,
            parent,
            &d.text,
            Loc {
                file: d.file,
                span: d.span,
            },
            Loc {
                file: d.file,
                span: d.item,
            },
            d.doc.clone(),
        );
        ids.entry(d.name).or_insert(id);
    }
    for u in &res.uses {
        if let Some(&id) = ids.get(&u.name) {
            index.refer(
                id,
                Loc {
                    file: u.file,
                    span: u.span,
                },
            );
        }
    }
    index.finish();
    index
}
