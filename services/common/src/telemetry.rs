//! Tracing and OpenTelemetry.
//!
//! Every service installs an OpenTelemetry layer, so every span has a real
//! trace id that travels in NATS headers (`traceparent`, `tracestate`) from
//! the GP's POST to the last consumer; spans are exported over OTLP/HTTP only
//! when an endpoint is configured.

use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::settings::TelemetrySettings;

/// Keeps the tracer provider alive; flushes spans when dropped.
pub struct TelemetryGuard(Option<SdkTracerProvider>);

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        if let Some(provider) = self.0.take()
            && let Err(error) = provider.shutdown()
        {
            eprintln!("telemetry: spans not flushed at exit: {error}");
        }
    }
}

/// Install the global subscriber. Call once, at start-up.
pub fn init(service: &'static str, settings: &TelemetrySettings) -> anyhow::Result<TelemetryGuard> {
    crate::tls::install_crypto_provider();
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    let resource = opentelemetry_sdk::Resource::builder()
        .with_service_name(format!("pathway-{service}"))
        .build();
    let mut builder = SdkTracerProvider::builder().with_resource(resource);
    if let Some(endpoint) = &settings.otlp_endpoint {
        use opentelemetry_otlp::WithExportConfig;
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_endpoint(format!("{}/v1/traces", endpoint.trim_end_matches('/')))
            .build()?;
        builder = builder.with_batch_exporter(exporter);
    }
    let provider = builder.build();
    let tracer = provider.tracer(service);
    opentelemetry::global::set_tracer_provider(provider.clone());

    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&settings.log_filter))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let fmt = if settings.json_logs {
        tracing_subscriber::fmt::layer().json().boxed()
    } else {
        tracing_subscriber::fmt::layer().with_target(false).boxed()
    };
    // Spans reach OpenTelemetry at info and above whatever the log filter
    // says, so trace context is carried even when logs are quiet.
    tracing_subscriber::registry()
        .with(fmt.with_filter(filter))
        .with(
            tracing_opentelemetry::layer()
                .with_tracer(tracer)
                .with_filter(EnvFilter::new(
                    "info,sqlx=warn,sea_orm=warn,async_nats=warn,h2=warn,hyper=warn",
                )),
        )
        .try_init()?;
    Ok(TelemetryGuard(Some(provider)))
}

/// Install tracing for tests: trace context works, nothing is exported, log
/// lines go to the test's captured output. Safe to call many times.
pub fn init_for_tests() {
    crate::tls::install_crypto_provider();
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
        let provider = SdkTracerProvider::builder().build();
        let tracer = provider.tracer("test");
        opentelemetry::global::set_tracer_provider(provider);
        let filter = EnvFilter::try_from_env("TEST_LOG").unwrap_or_else(|_| EnvFilter::new("warn"));
        let _ = tracing_subscriber::registry()
            .with(
                tracing_subscriber::fmt::layer()
                    .with_test_writer()
                    .with_filter(filter),
            )
            .with(
                tracing_opentelemetry::layer()
                    .with_tracer(tracer)
                    .with_filter(EnvFilter::new(
                        "info,sqlx=warn,sea_orm=warn,async_nats=warn",
                    )),
            )
            .try_init();
    });
}

/// Write the current span's trace context as header pairs.
pub fn inject_current_context(mut put: impl FnMut(&str, &str)) {
    struct Put<'a, F: FnMut(&str, &str)>(&'a mut F);
    impl<F: FnMut(&str, &str)> Injector for Put<'_, F> {
        fn set(&mut self, key: &str, value: String) {
            (self.0)(key, &value);
        }
    }
    let context = tracing::Span::current().context();
    TraceContextPropagator::new().inject_context(&context, &mut Put(&mut put));
}

/// Make `span` a child of the trace carried in NATS `headers`.
pub fn set_parent_from_headers(span: &tracing::Span, headers: &async_nats::HeaderMap) {
    struct Get<'a>(&'a async_nats::HeaderMap);
    impl Extractor for Get<'_> {
        fn get(&self, key: &str) -> Option<&str> {
            self.0.get(key).map(|v| v.as_str())
        }
        fn keys(&self) -> Vec<&str> {
            self.0.iter().map(|(k, _)| k.as_ref()).collect()
        }
    }
    let parent = TraceContextPropagator::new().extract(&Get(headers));
    let _ = span.set_parent(parent);
}

/// Make `span` a child of the trace carried in HTTP `headers` (a GP system's
/// own trace, when it sends one).
pub fn set_parent_from_http(span: &tracing::Span, headers: &http::HeaderMap) {
    struct Get<'a>(&'a http::HeaderMap);
    impl Extractor for Get<'_> {
        fn get(&self, key: &str) -> Option<&str> {
            self.0.get(key).and_then(|v| v.to_str().ok())
        }
        fn keys(&self) -> Vec<&str> {
            self.0.keys().map(|k| k.as_str()).collect()
        }
    }
    if headers.contains_key("traceparent") {
        let parent = TraceContextPropagator::new().extract(&Get(headers));
        let _ = span.set_parent(parent);
    }
}
