//! Every public item has a doc comment with an example that rustdoc compiles.
//!
//! The project's standard, checked on the crate's own syntax tree (`syn`): every item written
//! `pub` in `src/` (functions and methods, structs, enums, unions, traits, type aliases,
//! constants and statics, including those written inside a `macro_rules!` body) must have, in
//! its doc comment (`///` lines or `#[doc = ...]` attributes, `concat!` literals included), a
//! fenced code block that rustdoc compiles as Rust: one with no info string, or only `rust`,
//! `no_run`, `should_panic` and edition words. A block marked `text`, `ignore`,
//! `compile_fail` and the like shows no working use, so it does not count.
//!
//! Not checked, as they are not public API or are documented elsewhere: `pub(crate)`,
//! `pub(super)` and `pub(in ...)` items, `pub mod` and `pub use`; items (and everything in a
//! block) under a `cfg` that is off in a normal build (`test`, `loom`, `doctest`,
//! `threadkit_chaos`); everything in a private `mod sealed`. Platform `cfg`s (`unix`,
//! `target_os = ...`) count as on, so every platform's items are checked.
//!
//! A checked item is a superset of what rustdoc shows: a `pub` item that no path reaches is
//! checked too (rustc's `unreachable_pub` is the tool for those).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use proc_macro2::{Delimiter, Spacing, TokenStream, TokenTree};
use syn::visit::{self, Visit};
use syn::{Attribute, Expr, ImplItem, Item, Lit, Meta, Visibility};

/// Info-string words under which rustdoc compiles a block as Rust (and runs it, unless
/// `no_run`). Anything else (`text`, `ignore`, `compile_fail`, `console`, ...) does not count.
const RUST_INFO_WORDS: &[&str] = &[
    "",
    "rust",
    "no_run",
    "should_panic",
    "edition2015",
    "edition2018",
    "edition2021",
    "edition2024",
];

/// `cfg` names that are off in the build users get.
const OFF_CFGS: &[&str] = &["test", "loom", "doctest", "threadkit_chaos", "miri"];

/// One public item found.
#[derive(Debug, Clone, PartialEq)]
struct Found {
    line: usize,
    kind: &'static str,
    name: String,
    has_example: bool,
}

/// Whether the doc text holds a fenced code block that rustdoc compiles as Rust.
fn has_compiled_example(doc: &str) -> bool {
    let mut open: Option<String> = None;
    for line in doc.lines() {
        let t = line.trim();
        let fence_char = match t.chars().next() {
            Some(c @ ('`' | '~')) => c,
            _ => continue,
        };
        let fence_len = t.chars().take_while(|&c| c == fence_char).count();
        if fence_len < 3 {
            continue;
        }
        let fence = &t[..fence_len];
        let info = t[fence_len..].trim();
        match &open {
            None => {
                if fence_char == '`' && info.contains('`') {
                    continue; // inline code such as ```x```, not a fence
                }
                let mut words = info.split([' ', '\t', ',']).filter(|w| !w.is_empty());
                if words.all(|w| RUST_INFO_WORDS.contains(&w)) {
                    return true;
                }
                open = Some(fence.to_owned());
            }
            Some(opening) => {
                if fence.starts_with(opening.as_str()) && info.is_empty() {
                    open = None;
                }
            }
        }
    }
    false
}

/// The text of a `doc` attribute: its string literal, or the string literals of a
/// `concat!(...)` (other pieces, such as `stringify!($Q)` in a macro, add nothing).
fn doc_of_tokens(value: &TokenStream) -> String {
    let mut out = String::new();
    for tt in value.clone() {
        match tt {
            TokenTree::Literal(lit) => out.push_str(&string_literal(&lit).unwrap_or_default()),
            TokenTree::Group(g) => out.push_str(&doc_of_tokens(&g.stream())),
            _ => {}
        }
    }
    out
}

fn string_literal(lit: &proc_macro2::Literal) -> Option<String> {
    match Lit::new(lit.clone()) {
        Lit::Str(s) => Some(s.value()),
        _ => None,
    }
}

/// Three-valued `cfg` evaluation: `Some(false)` only where the predicate is off in a normal
/// build whatever the platform.
fn cfg_value(meta: &Meta) -> Option<bool> {
    match meta {
        Meta::Path(p) => {
            let name = p.get_ident()?.to_string();
            if OFF_CFGS.contains(&name.as_str()) {
                Some(false)
            } else {
                None // unix, windows, debug_assertions, ...: depends on the build
            }
        }
        Meta::NameValue(_) => None, // target_os = "...", feature = "...", ...
        Meta::List(list) => {
            let name = list.path.get_ident()?.to_string();
            let args: Vec<Meta> = list
                .parse_args_with(
                    syn::punctuated::Punctuated::<Meta, syn::Token![,]>::parse_terminated,
                )
                .ok()?
                .into_iter()
                .collect();
            let values: Vec<Option<bool>> = args.iter().map(cfg_value).collect();
            match name.as_str() {
                "not" => values.first().copied().flatten().map(|v| !v),
                "all" if values.contains(&Some(false)) => Some(false),
                "all" if values.iter().all(|v| *v == Some(true)) => Some(true),
                "any" if values.contains(&Some(true)) => Some(true),
                "any" if values.iter().all(|v| *v == Some(false)) => Some(false),
                _ => None,
            }
        }
    }
}

/// Whether the attributes switch their item off in a normal build.
fn is_off(attrs: &[Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("cfg")
            && a.parse_args::<Meta>()
                .is_ok_and(|m| cfg_value(&m) == Some(false))
    })
}

/// The doc text of the attributes, one line per `///` line or `#[doc = ...]`.
fn doc_text(attrs: &[Attribute]) -> String {
    let mut doc = String::new();
    for a in attrs {
        if let Meta::NameValue(nv) = &a.meta
            && nv.path.is_ident("doc")
        {
            match &nv.value {
                Expr::Lit(l) => {
                    if let Lit::Str(s) = &l.lit {
                        doc.push_str(&s.value());
                    }
                }
                Expr::Macro(m) => doc.push_str(&doc_of_tokens(&m.mac.tokens)),
                _ => {}
            }
            doc.push('\n');
        }
    }
    doc
}

struct Scanner {
    found: Vec<Found>,
}

impl Scanner {
    fn record(
        &mut self,
        vis: &Visibility,
        attrs: &[Attribute],
        kind: &'static str,
        ident: &syn::Ident,
    ) {
        if matches!(vis, Visibility::Public(_)) {
            self.found.push(Found {
                line: ident.span().start().line,
                kind,
                name: ident.to_string(),
                has_example: has_compiled_example(&doc_text(attrs)),
            });
        }
    }

    /// A `macro_rules!` body is tokens, not items: its `pub` items are found by their
    /// shape (`#[...]`* `pub` qualifiers* kind name), their docs by their `doc` attributes
    /// (the lexer turns `///` inside a macro into `#[doc = "..."]` too).
    fn scan_macro_body(&mut self, tokens: TokenStream) {
        let tts: Vec<TokenTree> = tokens.into_iter().collect();
        let mut doc = String::new();
        let mut off = false;
        let mut i = 0;
        while i < tts.len() {
            match &tts[i] {
                TokenTree::Punct(p) if p.as_char() == '#' => {
                    // `#[attr]` (or `#![attr]`)
                    let mut j = i + 1;
                    if matches!(&tts.get(j), Some(TokenTree::Punct(q)) if q.as_char() == '!') {
                        j += 1;
                    }
                    if let Some(TokenTree::Group(g)) = tts.get(j)
                        && g.delimiter() == Delimiter::Bracket
                    {
                        let attr: Vec<TokenTree> = g.stream().into_iter().collect();
                        match attr.first() {
                            Some(TokenTree::Ident(id)) if id == "doc" => {
                                let rest: TokenStream = attr[1..].iter().cloned().collect();
                                doc.push_str(&doc_of_tokens(&rest));
                                doc.push('\n');
                            }
                            Some(TokenTree::Ident(id)) if id == "cfg" => {
                                if let Some(TokenTree::Group(args)) = attr.get(1)
                                    && let Ok(m) = syn::parse2::<Meta>(args.stream())
                                    && cfg_value(&m) == Some(false)
                                {
                                    off = true;
                                }
                            }
                            _ => {}
                        }
                        i = j + 1;
                        continue;
                    }
                    doc.clear();
                    i += 1;
                }
                TokenTree::Ident(id) if id == "pub" => {
                    // `pub(crate)` and the like are not public.
                    let restricted = matches!(&tts.get(i + 1),
                        Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis);
                    let mut j = i + 1;
                    while let Some(TokenTree::Ident(q)) = tts.get(j) {
                        if ["const", "unsafe", "async", "extern"].contains(&q.to_string().as_str())
                            && !matches!(tts.get(j + 1), Some(TokenTree::Punct(p)) if p.as_char() == '$')
                            && !(q == "const" && is_name(tts.get(j + 1)))
                        {
                            j += 1;
                            if let Some(TokenTree::Literal(_)) = tts.get(j) {
                                j += 1; // extern "C"
                            }
                        } else {
                            break;
                        }
                    }
                    let kind = match tts.get(j) {
                        Some(TokenTree::Ident(k)) => item_kind(&k.to_string()),
                        _ => None,
                    };
                    if let (Some(kind), false, false) = (kind, restricted, off) {
                        let mut n = j + 1;
                        if matches!(tts.get(n), Some(TokenTree::Ident(m)) if m == "mut") {
                            n += 1;
                        }
                        let name = match (tts.get(n), tts.get(n + 1)) {
                            (Some(TokenTree::Ident(name)), _) => {
                                Some((name.span(), name.to_string()))
                            }
                            (Some(TokenTree::Punct(p)), Some(TokenTree::Ident(name)))
                                if p.as_char() == '$' && p.spacing() == Spacing::Alone =>
                            {
                                Some((name.span(), format!("${name}")))
                            }
                            _ => None,
                        };
                        if let Some((span, name)) = name {
                            self.found.push(Found {
                                line: span.start().line,
                                kind,
                                name,
                                has_example: has_compiled_example(&doc),
                            });
                        }
                    }
                    doc.clear();
                    i = j.max(i + 1);
                }
                TokenTree::Group(g) => {
                    if off && g.delimiter() == Delimiter::Brace {
                        off = false; // the switched-off item's body: skipped whole
                    } else {
                        self.scan_macro_body(g.stream());
                    }
                    doc.clear();
                    i += 1;
                }
                TokenTree::Punct(p) if p.as_char() == ';' => {
                    off = false;
                    doc.clear();
                    i += 1;
                }
                _ => {
                    i += 1;
                }
            }
        }
    }
}

fn is_name(tt: Option<&TokenTree>) -> bool {
    matches!(tt, Some(TokenTree::Ident(i)) if item_kind(&i.to_string()).is_none()
        && !["unsafe", "async", "extern"].contains(&i.to_string().as_str()))
}

fn item_kind(word: &str) -> Option<&'static str> {
    Some(match word {
        "fn" => "fn",
        "struct" => "struct",
        "enum" => "enum",
        "trait" => "trait",
        "type" => "type",
        "const" => "const",
        "static" => "static",
        "union" => "union",
        _ => return None,
    })
}

fn item_attrs(item: &Item) -> &[Attribute] {
    match item {
        Item::Const(i) => &i.attrs,
        Item::Enum(i) => &i.attrs,
        Item::ExternCrate(i) => &i.attrs,
        Item::Fn(i) => &i.attrs,
        Item::ForeignMod(i) => &i.attrs,
        Item::Impl(i) => &i.attrs,
        Item::Macro(i) => &i.attrs,
        Item::Mod(i) => &i.attrs,
        Item::Static(i) => &i.attrs,
        Item::Struct(i) => &i.attrs,
        Item::Trait(i) => &i.attrs,
        Item::TraitAlias(i) => &i.attrs,
        Item::Type(i) => &i.attrs,
        Item::Union(i) => &i.attrs,
        Item::Use(i) => &i.attrs,
        _ => &[],
    }
}

fn impl_item_attrs(item: &ImplItem) -> &[Attribute] {
    match item {
        ImplItem::Const(i) => &i.attrs,
        ImplItem::Fn(i) => &i.attrs,
        ImplItem::Type(i) => &i.attrs,
        ImplItem::Macro(i) => &i.attrs,
        _ => &[],
    }
}

impl<'ast> Visit<'ast> for Scanner {
    fn visit_item(&mut self, item: &'ast Item) {
        if is_off(item_attrs(item)) {
            return;
        }
        match item {
            Item::Const(i) => self.record(&i.vis, &i.attrs, "const", &i.ident),
            Item::Enum(i) => self.record(&i.vis, &i.attrs, "enum", &i.ident),
            Item::Fn(i) => self.record(&i.vis, &i.attrs, "fn", &i.sig.ident),
            Item::Static(i) => self.record(&i.vis, &i.attrs, "static", &i.ident),
            Item::Struct(i) => self.record(&i.vis, &i.attrs, "struct", &i.ident),
            Item::Trait(i) => self.record(&i.vis, &i.attrs, "trait", &i.ident),
            Item::Type(i) => self.record(&i.vis, &i.attrs, "type", &i.ident),
            Item::Union(i) => self.record(&i.vis, &i.attrs, "union", &i.ident),
            Item::Mod(m) if m.ident == "sealed" && matches!(m.vis, Visibility::Inherited) => {
                return;
            }
            Item::Macro(m) if m.mac.path.is_ident("macro_rules") => {
                self.scan_macro_body(m.mac.tokens.clone());
                return;
            }
            _ => {}
        }
        visit::visit_item(self, item);
    }

    fn visit_impl_item(&mut self, item: &'ast ImplItem) {
        if is_off(impl_item_attrs(item)) {
            return;
        }
        match item {
            ImplItem::Const(i) => self.record(&i.vis, &i.attrs, "const", &i.ident),
            ImplItem::Fn(i) => self.record(&i.vis, &i.attrs, "fn", &i.sig.ident),
            ImplItem::Type(i) => self.record(&i.vis, &i.attrs, "type", &i.ident),
            _ => {}
        }
        visit::visit_impl_item(self, item);
    }
}

/// The public items of one source file, in the order written.
fn scan_source(src: &str) -> Result<Vec<Found>, syn::Error> {
    let file = syn::parse_file(src)?;
    let mut scanner = Scanner { found: Vec::new() };
    if is_off(&file.attrs) {
        return Ok(Vec::new());
    }
    scanner.visit_file(&file);
    scanner.found.sort_by_key(|f| f.line);
    Ok(scanner.found)
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| e.expect("a directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_public_item_has_a_compiled_doc_example() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    assert!(!files.is_empty(), "no Rust files under src/");
    let (mut checked, mut missing, mut listing) = (0, String::new(), String::new());
    for path in &files {
        let rel = path.strip_prefix(root).unwrap().display().to_string();
        let src = std::fs::read_to_string(path).unwrap();
        let found = scan_source(&src).unwrap_or_else(|e| {
            let at = e.span().start();
            panic!("{rel}:{}:{}: {e}", at.line, at.column + 1)
        });
        for f in found {
            checked += 1;
            writeln!(listing, "{rel}:{}: {} {}", f.line, f.kind, f.name).unwrap();
            if !f.has_example {
                writeln!(missing, "  {rel}:{}: {} {}", f.line, f.kind, f.name).unwrap();
            }
        }
    }
    // A floor, so that a scanner that silently finds nothing cannot pass.
    assert!(
        checked > 200,
        "only {checked} public items found: is the scan broken?"
    );
    if std::env::var_os("DOC_EXAMPLES_LIST").is_some() {
        eprintln!("{listing}");
    }
    assert!(
        missing.is_empty(),
        "{} of {checked} public items have no compiled doc example:\n{missing}",
        missing.lines().count()
    );
}

/// The checker on a small source with each case it must get right.
#[test]
fn the_checker_finds_items_without_an_example_and_skips_what_is_not_public() {
    let src = r#"
/// Has one.
///
/// ```
/// assert!(true);
/// ```
pub fn documented() {}

/// Only text.
pub struct NoExample;

/// A block that is not compiled does not count.
///
/// ```text
/// not rust
/// ```
///
/// ```ignore
/// skipped();
/// ```
pub enum OnlyIgnored {}

/// A later compiled block counts.
///
/// ```text
/// output
/// ```
///
/// ```no_run
/// let x = 1;
/// ```
pub const LATER: u8 = 1;

pub(crate) fn crate_only() {}
fn private() {}

pub struct Holder;
impl Holder {
    /// ```rust,should_panic
    /// panic!();
    /// ```
    pub fn method_with(&self) {}
    pub unsafe fn method_without(&self) {}
    fn private_method(&self) {}
}

#[cfg(test)]
pub fn only_in_tests() {}

#[cfg(all(test, not(loom)))]
mod tests {
    pub fn helper() {}
}

#[cfg(unix)]
pub fn on_unix() {}

mod sealed {
    pub trait Sealed {}
}

macro_rules! api {
    ($Q:ident, $new:literal) => {
        impl $Q {
            /// Made by a macro.
            ///
            /// ```
            #[doc = concat!("let q = ", $new, ";")]
            /// ```
            pub fn in_macro_with(&self) {}

            /// No example.
            pub const fn in_macro_without(&self) {}

            pub(crate) fn in_macro_crate(&self) {}

            #[cfg(loom)]
            pub fn in_macro_loom(&self) {}
        }
    };
}
"#;
    let found = scan_source(src).unwrap();
    let summary: Vec<(&str, &str, bool)> = found
        .iter()
        .map(|f| (f.kind, f.name.as_str(), f.has_example))
        .collect();
    assert_eq!(
        summary,
        [
            ("fn", "documented", true),
            ("struct", "NoExample", false),
            ("enum", "OnlyIgnored", false),
            ("const", "LATER", true),
            ("struct", "Holder", false),
            ("fn", "method_with", true),
            ("fn", "method_without", false),
            ("fn", "on_unix", false),
            ("fn", "in_macro_with", true),
            ("fn", "in_macro_without", false),
        ]
    );
    let without = found.iter().find(|f| f.name == "method_without").unwrap();
    let line = src
        .lines()
        .position(|l| l.contains("fn method_without"))
        .unwrap()
        + 1;
    assert_eq!(without.line, line, "lines are the source's");
}

#[test]
fn fences_are_read_as_rustdoc_reads_them() {
    assert!(has_compiled_example("```\nlet a = 1;\n```"));
    assert!(has_compiled_example("  ```edition2024\nx\n```"));
    assert!(has_compiled_example("~~~\nx\n~~~"));
    assert!(!has_compiled_example("```compile_fail\nx\n```"));
    assert!(!has_compiled_example("```rust,ignore\nx\n```"));
    assert!(!has_compiled_example("Use ``x`` here."));
    // A fence inside a non-Rust block is its content, not a new block.
    assert!(!has_compiled_example("````text\n```\n````"));
    assert!(has_compiled_example("````text\n```\n````\n```\nok\n```"));
}
