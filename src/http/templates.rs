//! The minijinja environment over the templates embedded from `web/templates`.

use std::sync::OnceLock;

use minijinja::{Environment, UndefinedBehavior};
use serde::Serialize;

use super::assets;
use crate::error::AppError;

fn build() -> Environment<'static> {
    let mut env = Environment::new();
    // Semi-strict: printing an undefined value is an error, testing one (`if`, `or`) is not.
    env.set_undefined_behavior(UndefinedBehavior::SemiStrict);
    for (name, source) in assets::TEMPLATES {
        if let Err(e) = env.add_template(name, source) {
            tracing::error!(template = name, error = %e, "template does not parse");
        }
    }
    env.add_function("asset", |name: String| {
        minijinja::Value::from_safe_string(assets::url(&name))
    });
    env
}

pub fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(build)
}

pub fn render(name: &str, ctx: impl Serialize) -> Result<String, AppError> {
    env()
        .get_template(name)
        .and_then(|t| t.render(ctx))
        .map_err(|e| AppError::Internal(format!("template {name}: {e:#}")))
}

/// Start-up self-check: every embedded template parses.
pub fn check_all() -> Result<usize, String> {
    let mut env = Environment::new();
    for (name, source) in assets::TEMPLATES {
        env.add_template(name, source)
            .map_err(|e| format!("template {name}: {e}"))?;
    }
    Ok(assets::TEMPLATES.len())
}
