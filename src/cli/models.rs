//! The run's model configuration, built once at the edge: the settings' model defaults merged
//! under the pipeline's `model:` and each task's (settings < pipeline < task; the pipeline
//! merged its own `model:` into each task when it was checked, and this is the only place the
//! settings join in), and the llm clients the merged models make. Past this point `exec` and
//! `llm` read plain values: neither sees the settings.

use std::sync::Arc;

use crate::error::Error;
use crate::exec::Models;
use crate::llm::{
    Cache, CacheMode, Client, ClientConfig, DEFAULT_TIMEOUT, Provider, llm_cache_dir,
};
use crate::pipeline::{EditFormat, Model, Pipeline};
use crate::settings::Settings;

/// What the settings say about models, for the pipelines of one invocation.
#[derive(Debug, Clone)]
pub struct ModelDefaults {
    provider: Provider,
    name: Option<String>,
    base_url: Option<String>,
    edit_format: EditFormat,
    concurrency: usize,
    cache: Option<Cache>,
}

impl ModelDefaults {
    /// The model settings (`model.*`, `cache.dir`, `cache.mode`).
    pub fn from_settings(settings: &Settings) -> ModelDefaults {
        let mode = settings.cache_mode.value;
        ModelDefaults {
            provider: settings.model_provider.value,
            name: settings.model_name.value.clone(),
            base_url: settings.model_base_url.value.clone(),
            edit_format: settings.model_edit_format.value,
            concurrency: settings.model_concurrency.value,
            cache: (mode != CacheMode::Off)
                .then(|| Cache::new(llm_cache_dir(&settings.cache_dir.value), mode)),
        }
    }

    /// Fills what `pipeline` leaves to the settings: `model.concurrency` when the file does not
    /// set it, and in its `model:` and every task's, what [`ModelDefaults::merge`] fills. The
    /// run, its trailers, its report and `codefleet plan` then name the model actually used.
    pub fn apply(&self, pipeline: &mut Pipeline) {
        if !pipeline.explicit.model_concurrency {
            pipeline.model_concurrency = self.concurrency;
        }
        let tasks = pipeline.tasks.iter_mut().map(|t| &mut t.model);
        for model in std::iter::once(&mut pipeline.model).chain(tasks) {
            self.merge(model);
        }
    }

    /// Fills what `model` leaves unset: the provider; the name and base URL only when it keeps
    /// the settings' provider (a model name for one provider means nothing to another); the
    /// edit format when it is `auto`.
    pub fn merge(&self, model: &mut Model) {
        let provider = *model.provider.get_or_insert(self.provider);
        if provider == self.provider {
            if model.name.is_none() {
                model.name.clone_from(&self.name);
            }
            if model.base_url.is_none() {
                model.base_url.clone_from(&self.base_url);
            }
        }
        if model.edit_format == EditFormat::Auto {
            model.edit_format = self.edit_format;
        }
    }

    /// What a client for `model` (merged by [`ModelDefaults::merge`]) is built from: its
    /// provider, name, base URL, key variable, timeout and temperature, and the response cache
    /// of the settings. A model without a name is an error naming its provider.
    pub fn client_config(&self, model: &Model) -> Result<ClientConfig, Error> {
        let provider = model.provider.unwrap_or(self.provider);
        let mut config = ClientConfig::named(provider, model.name.as_deref())?;
        config.base_url.clone_from(&model.base_url);
        config.api_key_env.clone_from(&model.api_key_env);
        config.timeout = model.timeout.unwrap_or(DEFAULT_TIMEOUT);
        config.temperature = model.temperature;
        config.cache.clone_from(&self.cache);
        Ok(config)
    }

    /// The clients of a `codefleet run`: one per distinct endpoint, as `exec` asks, with keys
    /// from the process's environment. The run's budget and `model.concurrency` are enforced by
    /// the run's one meter, whatever client a request goes through.
    pub fn clients(&self) -> Models {
        let defaults = self.clone();
        Models::new(move |model| {
            let config = defaults.client_config(model)?;
            let client = Client::from_config(config, &|k| std::env::var(k).ok())?;
            Ok(Arc::new(client))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coders::Format;

    fn defaults() -> ModelDefaults {
        ModelDefaults {
            provider: Provider::Ollama,
            name: Some("local".into()),
            base_url: Some("http://127.0.0.1:1".into()),
            edit_format: EditFormat::Format(Format::Udiff),
            concurrency: 3,
            cache: None,
        }
    }

    #[test]
    fn the_settings_fill_only_what_a_model_leaves_unset() {
        let mut bare = Model::default();
        defaults().merge(&mut bare);
        assert_eq!(bare.provider, Some(Provider::Ollama));
        assert_eq!(bare.name.as_deref(), Some("local"));
        assert_eq!(bare.base_url.as_deref(), Some("http://127.0.0.1:1"));
        assert_eq!(bare.edit_format, EditFormat::Format(Format::Udiff));

        let mut own = Model {
            name: Some("mine".into()),
            edit_format: EditFormat::Format(Format::Whole),
            ..Model::default()
        };
        defaults().merge(&mut own);
        assert_eq!(own.name.as_deref(), Some("mine"));
        assert_eq!(own.edit_format, EditFormat::Format(Format::Whole));
    }

    #[test]
    fn another_provider_takes_no_name_or_url_from_the_settings() {
        let mut other = Model {
            provider: Some(Provider::Anthropic),
            ..Model::default()
        };
        defaults().merge(&mut other);
        assert_eq!((&other.name, &other.base_url), (&None, &None));
        assert_eq!(other.edit_format, EditFormat::Format(Format::Udiff));
        let e = defaults().client_config(&other).expect_err("no name");
        assert_eq!(e.code, "E412");
    }
}
