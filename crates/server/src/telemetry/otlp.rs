//! The OTLP exporter: spans batched on the SDK's own thread and sent as HTTP/protobuf.
//!
//! HTTP/protobuf rather than gRPC because it needs no tonic/HTTP/2 stack, and every collector
//! (OpenTelemetry Collector, Jaeger, Tempo, vendors' endpoints) accepts it on port 4318. The
//! HTTP client is the workspace's reqwest, run on the server's tokio runtime (see
//! [`RuntimeClient`]) instead of the blocking client the exporter defaults to, which would
//! compile a second reqwest and start a runtime of its own.

use std::time::Duration;

use anyhow::Context as _;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_http::{Bytes, HttpClient, HttpError, Request, Response};
use opentelemetry_otlp::{Protocol, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};
use opentelemetry_sdk::Resource;

use crate::config::Config;

/// How long one export may take before it is abandoned (the OTLP default).
const EXPORT_TIMEOUT: Duration = Duration::from_secs(10);

/// `service.name` unless `OTEL_SERVICE_NAME` (or `OTEL_RESOURCE_ATTRIBUTES`) names one.
const DEFAULT_SERVICE_NAME: &str = "frontdesk";

/// Where and as what traces are exported.
#[derive(Debug, Clone)]
pub struct TraceExport {
    /// The full URL of the collector's traces endpoint (`…/v1/traces`).
    pub url: String,
    /// `service.name`; `None` leaves it to `OTEL_RESOURCE_ATTRIBUTES` or the default.
    pub service_name: Option<String>,
}

impl TraceExport {
    /// The export the configuration asks for, or `None` when it names no endpoint.
    pub fn from_config(config: &Config) -> Option<Self> {
        Some(Self {
            url: config.otlp_traces_url()?,
            service_name: config.service_name.clone().filter(|n| !n.is_empty()),
        })
    }
}

/// A built exporter: the provider (flushed at shutdown) and the tracer the layers use.
pub(super) struct Pipeline {
    pub(super) provider: SdkTracerProvider,
    pub(super) tracer: SdkTracer,
    pub(super) endpoint: String,
}

impl Pipeline {
    /// Builds the exporter and its batch processor. The other standard variables —
    /// `OTEL_EXPORTER_OTLP_HEADERS` (a vendor's API key), `OTEL_TRACES_SAMPLER`,
    /// `OTEL_BSP_*`, `OTEL_RESOURCE_ATTRIBUTES` — are read by the SDK itself.
    pub(super) fn new(export: &TraceExport) -> anyhow::Result<Self> {
        let runtime = tokio::runtime::Handle::try_current()
            .context("exporting traces needs the tokio runtime")?;
        let client = reqwest::Client::builder()
            .timeout(EXPORT_TIMEOUT)
            .build()
            .context("cannot build the HTTP client for exporting traces")?;
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_http_client(RuntimeClient { client, runtime })
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(export.url.clone())
            .with_timeout(EXPORT_TIMEOUT)
            .build()
            .context("cannot set up the OTLP trace exporter")?;
        let provider = SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(resource(export.service_name.as_deref()))
            .build();
        let tracer = provider.tracer("frontdesk");
        Ok(Self {
            provider,
            tracer,
            endpoint: export.url.clone(),
        })
    }
}

/// The SDK's resource (`OTEL_RESOURCE_ATTRIBUTES`, SDK attributes) with the service's name.
fn resource(service_name: Option<&str>) -> Resource {
    let detected = Resource::builder().build();
    let unnamed = detected
        .get(&opentelemetry::Key::from_static_str("service.name"))
        .is_none_or(|name| name.as_str().starts_with("unknown_service"));
    match service_name {
        Some(name) => Resource::builder()
            .with_service_name(name.to_owned())
            .build(),
        None if unnamed => Resource::builder()
            .with_service_name(DEFAULT_SERVICE_NAME)
            .build(),
        None => detected,
    }
}

/// Sends the exporter's requests with the async reqwest client on the server's runtime.
///
/// The batch processor exports from a thread of its own by blocking on the export future,
/// where no runtime is current; the request is therefore spawned onto the captured runtime,
/// and only its completion is awaited on the exporter's thread.
#[derive(Debug)]
struct RuntimeClient {
    client: reqwest::Client,
    runtime: tokio::runtime::Handle,
}

#[async_trait::async_trait]
impl HttpClient for RuntimeClient {
    async fn send_bytes(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        let client = self.client.clone();
        let sent = self.runtime.spawn(async move {
            let request = reqwest::Request::try_from(request)?;
            let response = client.execute(request).await?;
            let status = response.status();
            let headers = response.headers().clone();
            let body = response.bytes().await?;
            let mut reply = Response::builder().status(status).body(body)?;
            *reply.headers_mut() = headers;
            Ok::<_, HttpError>(reply)
        });
        sent.await?
    }
}
