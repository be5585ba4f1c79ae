//! What tokens cost: a built-in table of list prices (US dollars per million tokens) that a
//! run can override or extend. A model missing from the table has an unknown cost, never $0.

use super::errors;
use crate::error::Error;

/// A model's price, in US dollars per million tokens.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Price {
    /// Input tokens at the full rate (Anthropic's cache writes count here too).
    pub input: f64,
    /// Input tokens read from the provider's prompt cache.
    pub cached_input: f64,
    /// Output tokens.
    pub output: f64,
}

/// Prices by model name. A name ending in `*` matches every model it starts; an exact name wins
/// over patterns, a longer pattern over a shorter one, and an override over the built-ins.
#[derive(Debug, Clone, Default)]
pub struct Prices {
    overrides: Vec<(String, Price)>,
    builtin: Vec<(String, Price)>,
}

/// List prices when this table was written (2025); override them when they change.
const BUILTIN: &[(&str, f64, f64, f64)] = &[
    ("gpt-5*", 1.25, 0.125, 10.0),
    ("gpt-5-mini*", 0.25, 0.025, 2.0),
    ("gpt-5-nano*", 0.05, 0.005, 0.40),
    ("gpt-4.1*", 2.0, 0.50, 8.0),
    ("gpt-4.1-mini*", 0.40, 0.10, 1.60),
    ("gpt-4.1-nano*", 0.10, 0.025, 0.40),
    ("gpt-4o*", 2.50, 1.25, 10.0),
    ("gpt-4o-mini*", 0.15, 0.075, 0.60),
    ("o3*", 2.0, 0.50, 8.0),
    ("o3-mini*", 1.10, 0.55, 4.40),
    ("o4-mini*", 1.10, 0.275, 4.40),
    ("claude-opus-4*", 15.0, 1.50, 75.0),
    ("claude-opus-4-5*", 5.0, 0.50, 25.0),
    ("claude-sonnet-4*", 3.0, 0.30, 15.0),
    ("claude-3-7-sonnet*", 3.0, 0.30, 15.0),
    ("claude-3-5-sonnet*", 3.0, 0.30, 15.0),
    ("claude-haiku-4-5*", 1.0, 0.10, 5.0),
    ("claude-3-5-haiku*", 0.80, 0.08, 4.0),
];

impl Prices {
    /// The built-in table.
    pub fn builtin() -> Prices {
        Prices {
            overrides: Vec::new(),
            builtin: BUILTIN
                .iter()
                .map(|&(name, input, cached_input, output)| {
                    (
                        name.to_string(),
                        Price {
                            input,
                            cached_input,
                            output,
                        },
                    )
                })
                .collect(),
        }
    }

    /// No prices at all: every cost is unknown until [`Prices::set`] adds some.
    pub fn empty() -> Prices {
        Prices::default()
    }

    /// Sets the price of `model` (or of a `prefix*` pattern), over any built-in one.
    pub fn set(&mut self, model: impl Into<String>, price: Price) {
        let model = model.into();
        self.overrides.retain(|(m, _)| *m != model);
        self.overrides.push((model, price));
    }

    /// Adds overrides written `MODEL=INPUT/CACHED/OUTPUT` (or `MODEL=INPUT/OUTPUT`, cached
    /// input then at the input price), US dollars per million tokens, separated by commas;
    /// `MODEL` may end in `*`. E.g. `gpt-4o=2.5/1.25/10, llama*=0/0/0`.
    pub fn set_from(&mut self, spec: &str) -> Result<(), Error> {
        for entry in spec
            .split([',', ';'])
            .map(str::trim)
            .filter(|e| !e.is_empty())
        {
            let bad = || {
                Error::new(
                    errors::PRICES.id,
                    format!("bad model price `{entry}`"),
                )
                .hint("write MODEL=INPUT/CACHED/OUTPUT in US dollars per million tokens, e.g. gpt-4o=2.5/1.25/10")
            };
            let (model, numbers) = entry.split_once('=').ok_or_else(bad)?;
            let numbers: Vec<f64> = numbers
                .split('/')
                .map(|n| {
                    n.trim()
                        .parse::<f64>()
                        .ok()
                        .filter(|v| v.is_finite() && *v >= 0.0)
                })
                .collect::<Option<_>>()
                .ok_or_else(bad)?;
            let price = match numbers[..] {
                [input, cached_input, output] => Price {
                    input,
                    cached_input,
                    output,
                },
                [input, output] => Price {
                    input,
                    cached_input: input,
                    output,
                },
                _ => return Err(bad()),
            };
            let model = model.trim();
            if model.is_empty() {
                return Err(bad());
            }
            self.set(model, price);
        }
        Ok(())
    }

    /// The price of `model`, when known.
    pub fn lookup(&self, model: &str) -> Option<Price> {
        best(&self.overrides, model).or_else(|| best(&self.builtin, model))
    }

    /// What `usage` of `model` cost, when its price is known.
    pub fn cost(&self, model: &str, usage: &super::Usage) -> Option<f64> {
        let p = self.lookup(model)?;
        Some(
            (usage.input as f64 * p.input
                + usage.cached_input as f64 * p.cached_input
                + usage.output as f64 * p.output)
                / 1_000_000.0,
        )
    }
}

fn best(table: &[(String, Price)], model: &str) -> Option<Price> {
    if let Some((_, p)) = table.iter().find(|(m, _)| m == model) {
        return Some(*p);
    }
    table
        .iter()
        .filter_map(|(m, p)| {
            let prefix = m.strip_suffix('*')?;
            model.starts_with(prefix).then_some((prefix.len(), *p))
        })
        .max_by_key(|(len, _)| *len)
        .map(|(_, p)| p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::Usage;

    #[test]
    fn longest_pattern_wins_and_unknown_stays_unknown() {
        let prices = Prices::builtin();
        assert_eq!(
            prices.lookup("gpt-4o-mini-2024-07-18").map(|p| p.output),
            Some(0.60)
        );
        assert_eq!(
            prices.lookup("gpt-4o-2024-08-06").map(|p| p.output),
            Some(10.0)
        );
        assert_eq!(prices.lookup("llama3.2"), None);
        let usage = Usage {
            input: 1000,
            cached_input: 0,
            output: 0,
        };
        assert_eq!(prices.cost("llama3.2", &usage), None);
    }

    #[test]
    fn overrides_parse() {
        let mut prices = Prices::empty();
        prices
            .set_from("gpt-4o=2.5/1.25/10, local*=0/0 ;")
            .expect("valid");
        assert_eq!(prices.lookup("gpt-4o").map(|p| p.cached_input), Some(1.25));
        assert_eq!(prices.lookup("local-llama").map(|p| p.output), Some(0.0));
        for bad in ["gpt-4o", "x=1", "x=a/b/c", "=1/2", "x=-1/2"] {
            let e = Prices::empty().set_from(bad).expect_err(bad);
            assert_eq!(e.code, "E414");
        }
    }

    #[test]
    fn overrides_win() {
        let mut prices = Prices::builtin();
        let p = Price {
            input: 1.0,
            cached_input: 0.5,
            output: 2.0,
        };
        prices.set("gpt-4o*", p);
        assert_eq!(prices.lookup("gpt-4o-mini"), Some(p));
        let usage = Usage {
            input: 1_000_000,
            cached_input: 2_000_000,
            output: 500_000,
        };
        assert_eq!(prices.cost("gpt-4o", &usage), Some(3.0));
    }
}
