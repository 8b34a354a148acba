//! What a board template may say. Fuel bounds the steps a rendering takes
//! and the output cap bounds what it writes, but neither bounds the memory
//! of the values it builds: `{% set b = a ~ a %}` thirty times over, a
//! macro calling itself with its argument doubled, or a `replace` that
//! lengthens its text, chained, builds a gigabyte in a few dozen steps.
//!
//! So a board's template is read as minijinja parses it, and may use only
//! what cannot grow a value past its source and its fields:
//!
//! - text, `{{ … }}`, `{% if %}` / `{% elif %}` / `{% else %}` and
//!   `{% for x in … %}` (not `recursive`);
//! - fields, constants, attribute and item look-ups, slices, comparisons,
//!   tests (`is none`), `and` / `or` / `not`, `~` and the arithmetic that
//!   cannot repeat a string (no `*`, no `**`), `… if … else …`;
//! - the filters in [`FILTERS`], `replace` only with constant text that is
//!   no longer than the text it replaces.
//!
//! Not `set`, macros, `call`, `with`, `include` / `import` / `extends`,
//! `filter` blocks, function calls (`range`, `namespace`), or list and map
//! literals, which would let a loop's variable hold a value built from the
//! one before.
//!
//! This reads minijinja's syntax tree through its `unstable_machinery`
//! feature, whose API may change with a minor release of minijinja; the
//! lock file pins the version. The match on statements is exhaustive on
//! purpose: a minijinja feature that adds a statement fails the build here
//! until someone decides whether a board may use it.

use minijinja::machinery::ast::{self, BinOpKind, CallArg, Expr, Stmt};
use minijinja::machinery::{WhitespaceConfig, parse};

/// The filters a board template may use: none makes a value longer than
/// what it is given.
pub const FILTERS: &[&str] = &[
    "capitalize",
    "d",
    "default",
    "e",
    "escape",
    "first",
    "last",
    "length",
    "lower",
    "replace",
    "title",
    "trim",
    "upper",
];

/// Why `source` may not be a board template, naming the line; `None` when
/// it keeps to the shape (or does not parse: rendering says why then).
pub fn shape_problem(source: &str) -> Option<String> {
    let tree = parse(
        source,
        "template",
        Default::default(),
        WhitespaceConfig::default(),
    )
    .ok()?;
    statement(&tree).err()
}

type Checked = Result<(), String>;

fn at(line: u16, what: &str) -> String {
    format!(
        "uses {what} (line {line}): a board template may use text, {{{{ … }}}}, \
         {{% if %}} and {{% for %}}, fields and the filters {}",
        FILTERS.join(", ")
    )
}

fn statements(body: &[Stmt<'_>]) -> Checked {
    body.iter().try_for_each(statement)
}

fn statement(stmt: &Stmt<'_>) -> Checked {
    match stmt {
        Stmt::Template(t) => statements(&t.children),
        Stmt::EmitExpr(e) => expression(&e.expr),
        Stmt::EmitRaw(_) => Ok(()),
        Stmt::IfCond(c) => {
            expression(&c.expr)?;
            statements(&c.true_body)?;
            statements(&c.false_body)
        }
        Stmt::ForLoop(l) => {
            if l.recursive {
                return Err(at(l.span().start_line, "a recursive loop"));
            }
            if !matches!(l.target, Expr::Var(_)) {
                return Err(at(l.span().start_line, "a loop unpacking its items"));
            }
            expression(&l.iter)?;
            if let Some(filter) = &l.filter_expr {
                expression(filter)?;
            }
            statements(&l.body)?;
            statements(&l.else_body)
        }
        Stmt::Set(s) => Err(at(s.span().start_line, "{% set %}")),
        Stmt::SetBlock(s) => Err(at(s.span().start_line, "{% set %}")),
        Stmt::WithBlock(s) => Err(at(s.span().start_line, "{% with %}")),
        Stmt::AutoEscape(s) => Err(at(s.span().start_line, "{% autoescape %}")),
        Stmt::FilterBlock(s) => Err(at(s.span().start_line, "a {% filter %} block")),
        Stmt::Block(s) => Err(at(s.span().start_line, "{% block %}")),
        Stmt::Import(s) => Err(at(s.span().start_line, "{% import %}")),
        Stmt::FromImport(s) => Err(at(s.span().start_line, "{% from … import %}")),
        Stmt::Extends(s) => Err(at(s.span().start_line, "{% extends %}")),
        Stmt::Include(s) => Err(at(s.span().start_line, "{% include %}")),
        Stmt::Macro(s) => Err(at(s.span().start_line, "a macro")),
        Stmt::CallBlock(s) => Err(at(s.span().start_line, "{% call %}")),
        Stmt::Do(s) => Err(at(s.span().start_line, "{% do %}")),
    }
}

fn expression(expr: &Expr<'_>) -> Checked {
    match expr {
        Expr::Var(_) | Expr::Const(_) => Ok(()),
        Expr::UnaryOp(u) => expression(&u.expr),
        Expr::BinOp(b) => {
            if matches!(b.op, BinOpKind::Mul | BinOpKind::Pow) {
                return Err(at(b.span().start_line, "`*` or `**`"));
            }
            expression(&b.left)?;
            expression(&b.right)
        }
        Expr::Compare(c) => {
            expression(&c.expr)?;
            c.ops.iter().try_for_each(|op| expression(&op.expr))
        }
        Expr::IfExpr(i) => {
            expression(&i.test_expr)?;
            expression(&i.true_expr)?;
            i.false_expr.as_ref().map_or(Ok(()), expression)
        }
        Expr::Test(t) => {
            expression(&t.expr)?;
            arguments(&t.args)
        }
        Expr::GetAttr(g) => expression(&g.expr),
        Expr::GetItem(g) => {
            expression(&g.expr)?;
            expression(&g.subscript_expr)
        }
        Expr::Slice(s) => {
            expression(&s.expr)?;
            [&s.start, &s.stop, &s.step]
                .into_iter()
                .flatten()
                .try_for_each(expression)
        }
        Expr::Filter(f) => filter(f),
        Expr::Call(c) => Err(at(c.span().start_line, "a function call")),
        Expr::List(l) => Err(at(l.span().start_line, "a list")),
        Expr::Map(m) => Err(at(m.span().start_line, "a map")),
    }
}

fn arguments(args: &[CallArg<'_>]) -> Checked {
    args.iter().try_for_each(|arg| match arg {
        CallArg::Pos(e) | CallArg::Kwarg(_, e) => expression(e),
        CallArg::PosSplat(e) | CallArg::KwargSplat(e) => expression(e),
    })
}

fn filter(f: &ast::Spanned<ast::Filter<'_>>) -> Checked {
    let line = f.span().start_line;
    if !FILTERS.contains(&f.name) {
        return Err(at(line, &format!("the filter `{}`", f.name)));
    }
    if let Some(expr) = &f.expr {
        expression(expr)?;
    }
    if f.name == "replace" {
        let text = |arg: Option<&CallArg<'_>>| match arg {
            Some(CallArg::Pos(Expr::Const(c))) => c.value.as_str().map(str::len),
            _ => None,
        };
        return match (f.args.len(), text(f.args.first()), text(f.args.get(1))) {
            (2, Some(old), Some(new)) if new <= old => Ok(()),
            _ => Err(at(
                line,
                "`replace` other than of constant text by constant text no longer than it",
            )),
        };
    }
    arguments(&f.args)
}
