//! An OTLP/HTTP trace receiver: the collector the tracing tests export to.
//!
//! It accepts `POST /v1/traces` with an `ExportTraceServiceRequest` in protobuf, as the
//! OpenTelemetry Collector does on port 4318, decodes it with the protocol's own generated
//! types (`opentelemetry-proto`) and keeps every span with its service's name.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::post;
use axum::Router;
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message as _;

/// One exported span and the `service.name` of the resource that sent it.
#[derive(Debug, Clone)]
pub struct ExportedSpan {
    /// The resource's `service.name`.
    pub service: String,
    /// The span as it arrived.
    pub span: Span,
}

impl ExportedSpan {
    /// The attribute `key` as text (strings as they are, numbers and booleans printed).
    pub fn attr(&self, key: &str) -> Option<String> {
        attr(&self.span.attributes, key)
    }

    /// The attribute `key` when it is an integer.
    pub fn int_attr(&self, key: &str) -> Option<i64> {
        let kv = self.span.attributes.iter().find(|kv| kv.key == key)?;
        match kv.value.as_ref()?.value.as_ref()? {
            AnyValue::IntValue(i) => Some(*i),
            _ => None,
        }
    }

    /// The span's trace id in hex.
    pub fn trace_id(&self) -> String {
        hex(&self.span.trace_id)
    }

    /// The span's id in hex.
    pub fn span_id(&self) -> String {
        hex(&self.span.span_id)
    }

    /// The parent span's id in hex (empty for a root span).
    pub fn parent_id(&self) -> String {
        hex(&self.span.parent_span_id)
    }
}

#[derive(Debug, Default)]
struct Received {
    requests: usize,
    spans: Vec<ExportedSpan>,
}

/// A receiver listening on loopback.
#[derive(Debug)]
pub struct Collector {
    /// Where it listens.
    pub addr: SocketAddr,
    received: Arc<Mutex<Received>>,
}

impl Collector {
    /// Starts a receiver on a free port.
    pub async fn start() -> anyhow::Result<Self> {
        Ok(Self::start_on("127.0.0.1:0".parse()?).await?)
    }

    /// Starts a receiver on `addr` (fails when the port is taken).
    pub async fn start_on(addr: SocketAddr) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let received = Arc::new(Mutex::new(Received::default()));
        let router = Router::new()
            .route("/v1/traces", post(receive))
            .with_state(received.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Ok(Self { addr, received })
    }

    /// The traces endpoint (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`).
    pub fn traces_url(&self) -> String {
        format!("http://{}/v1/traces", self.addr)
    }

    /// Every span received so far.
    pub fn spans(&self) -> Vec<ExportedSpan> {
        self.received.lock().expect("lock").spans.clone()
    }

    /// How many export requests arrived (well-formed or not).
    pub fn requests(&self) -> usize {
        self.received.lock().expect("lock").requests
    }
}

async fn receive(State(received): State<Arc<Mutex<Received>>>, body: Bytes) -> impl IntoResponse {
    let mut received = received.lock().expect("lock");
    received.requests += 1;
    let Ok(request) = ExportTraceServiceRequest::decode(body) else {
        return (StatusCode::BAD_REQUEST, Vec::new()).into_response();
    };
    for resource_spans in request.resource_spans {
        let service = resource_spans
            .resource
            .as_ref()
            .and_then(|r| attr(&r.attributes, "service.name"))
            .unwrap_or_default();
        for scope_spans in resource_spans.scope_spans {
            for span in scope_spans.spans {
                received.spans.push(ExportedSpan {
                    service: service.clone(),
                    span,
                });
            }
        }
    }
    let reply = ExportTraceServiceResponse::default().encode_to_vec();
    ([(header::CONTENT_TYPE, "application/x-protobuf")], reply).into_response()
}

fn attr(attributes: &[KeyValue], key: &str) -> Option<String> {
    let value = attributes.iter().find(|kv| kv.key == key)?.value.as_ref()?;
    match value.value.as_ref()? {
        AnyValue::StringValue(s) => Some(s.clone()),
        AnyValue::IntValue(i) => Some(i.to_string()),
        AnyValue::BoolValue(b) => Some(b.to_string()),
        AnyValue::DoubleValue(d) => Some(d.to_string()),
        _ => None,
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
