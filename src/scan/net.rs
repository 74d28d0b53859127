//! Network bounds of every AWS client onwatch builds (scan, `--live`, `audit list`): how long a
//! call may take, how large a response may be, and how much of a response an error message may
//! quote. An endpoint that accepts and never answers, trickles bytes, or streams gigabytes ends
//! the run with exit 2 naming the operation, within the bound.

use std::{
    pin::Pin,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    task::{Context, Poll},
    time::Duration,
};

use aws_config::timeout::TimeoutConfig;
use aws_smithy_runtime_api::{
    box_error::BoxError,
    client::{
        interceptors::{
            context::{
                AfterDeserializationInterceptorContextRef, BeforeDeserializationInterceptorContextMut, BeforeDeserializationInterceptorContextRef,
            },
            Intercept,
        },
        runtime_components::RuntimeComponents,
    },
};
use aws_smithy_types::{
    body::SdkBody,
    config_bag::{ConfigBag, Storable, StoreReplace},
};

/// The default bound on one AWS call, its retries included (`--timeout`).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// The longest `--timeout` accepted: an hour.
pub const MAX_TIMEOUT_SECONDS: u64 = 3_600;
/// Connecting takes at most this long (or the whole bound, when that is shorter).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest response body read. AWS pages are far smaller (a DynamoDB page holds at most
/// 1 MB of data; a dashboard body at most 1 MB); a larger body is not an answer to a listing.
pub const MAX_RESPONSE_BYTES: u64 = 32 * 1024 * 1024;
/// The most characters of a response (or of any error text) that an error message quotes.
pub const MAX_EXCERPT_CHARS: usize = 300;

/// Bounds on one call whose retries included take at most `total`: connect within 10 s, the
/// response headers within half of `total` and each attempt within half of it, so a stalled
/// attempt leaves time for one retry; the call, retries and backoff included, within `total`.
/// The read timeout covers a server that trickles its headers; the attempt timeout, one that
/// trickles its body.
pub fn timeout_config(total: Duration) -> TimeoutConfig {
    let attempt = (total / 2).max(Duration::from_millis(100)).min(total);
    TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT.min(total))
        .read_timeout(attempt)
        .operation_attempt_timeout(attempt)
        .operation_timeout(total)
        .build()
}

/// An interceptor that refuses a response body larger than [`MAX_RESPONSE_BYTES`]: by its
/// `Content-Length` before reading it, and while reading one of unknown length, so a hostile or
/// broken endpoint cannot make the SDK buffer it until memory runs out. The SDK retries a body
/// that fails while it is read; this one is not retried (its error is raised again by the
/// interceptor, and the SDK does not retry interceptor errors).
#[derive(Debug, Clone, Copy)]
pub struct ResponseLimit {
    pub max_bytes: u64,
}

impl Default for ResponseLimit {
    fn default() -> Self {
        ResponseLimit { max_bytes: MAX_RESPONSE_BYTES }
    }
}

fn too_large(max_bytes: u64, what: String) -> BoxError {
    format!("the response body is {what}, more than the {max_bytes} bytes onwatch reads; the endpoint is not answering as AWS does").into()
}

impl Intercept for ResponseLimit {
    fn name(&self) -> &'static str {
        "onwatch::scan::net::ResponseLimit"
    }

    fn read_after_transmit(
        &self,
        context: &BeforeDeserializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let declared = context.response().headers().get("content-length").and_then(|v| v.trim().parse::<u64>().ok());
        match declared {
            Some(length) if length > self.max_bytes => Err(too_large(self.max_bytes, format!("{length} bytes (Content-Length)"))),
            _ => Ok(()),
        }
    }

    fn modify_before_deserialization(
        &self,
        context: &mut BeforeDeserializationInterceptorContextMut<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let max_bytes = self.max_bytes;
        let exceeded = Exceeded::default();
        cfg.interceptor_state().store_put(exceeded.clone());
        let body = context.response_mut().take_body();
        *context.response_mut().body_mut() = body.map(move |body| {
            SdkBody::from_body_1_x(Limited { inner: body, left: max_bytes, max_bytes, exceeded: exceeded.clone() })
        });
        Ok(())
    }

    fn read_after_deserialization(
        &self,
        _context: &AfterDeserializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        match cfg.load::<Exceeded>() {
            Some(exceeded) if exceeded.0.load(Ordering::Relaxed) => Err(too_large(self.max_bytes, "larger".to_string())),
            _ => Ok(()),
        }
    }
}

/// Whether this attempt's body went past the bound.
#[derive(Debug, Clone, Default)]
struct Exceeded(Arc<AtomicBool>);

impl Storable for Exceeded {
    type Storer = StoreReplace<Self>;
}

/// A body that fails once more than `max_bytes` have been read.
struct Limited {
    inner: SdkBody,
    left: u64,
    max_bytes: u64,
    exceeded: Exceeded,
}

impl http_body::Body for Limited {
    type Data = <SdkBody as http_body::Body>::Data;
    type Error = <SdkBody as http_body::Body>::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if let Poll::Ready(Some(Ok(frame))) = &polled {
            let length = frame.data_ref().map_or(0, |data| data.len() as u64);
            match self.left.checked_sub(length) {
                Some(left) => self.left = left,
                None => {
                    self.exceeded.0.store(true, Ordering::Relaxed);
                    return Poll::Ready(Some(Err(too_large(self.max_bytes, "larger".to_string()))));
                }
            }
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        http_body::Body::is_end_stream(&self.inner)
    }

    fn size_hint(&self) -> http_body::SizeHint {
        http_body::Body::size_hint(&self.inner)
    }
}

/// `text` on one line and at most [`MAX_EXCERPT_CHARS`] characters: line breaks and other control
/// characters become spaces, runs of spaces one space, and a cut is marked with how much was cut.
pub fn excerpt(text: &str) -> String {
    let mut line = String::new();
    for c in text.chars() {
        let c = if c.is_control() || c.is_whitespace() { ' ' } else { c };
        if !(c == ' ' && (line.is_empty() || line.ends_with(' '))) {
            line.push(c);
        }
    }
    let line = line.trim_end();
    let count = line.chars().count();
    if count <= MAX_EXCERPT_CHARS {
        return line.to_string();
    }
    let kept: String = line.chars().take(MAX_EXCERPT_CHARS).collect();
    format!("{}... ({} more characters)", kept.trim_end(), count - MAX_EXCERPT_CHARS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_are_one_bounded_line() {
        assert_eq!(excerpt("  a\r\n\tb  \u{1b}[31m c\n"), "a b [31m c");
        let long = format!("<html>\n{}\n</html>", "x".repeat(4096));
        let short = excerpt(&long);
        assert!(!short.contains('\n'), "{short}");
        assert!(short.chars().count() <= MAX_EXCERPT_CHARS + 40, "{short}");
        assert!(short.starts_with("<html> xxx"), "{short}");
        assert!(short.ends_with(&format!("... ({} more characters)", "<html> ".len() + 4096 + " </html>".len() - MAX_EXCERPT_CHARS)), "{short}");
        // Multi-byte characters are cut at a character boundary.
        let wide = "é".repeat(MAX_EXCERPT_CHARS + 5);
        assert!(excerpt(&wide).ends_with("... (5 more characters)"));
    }

    #[test]
    fn every_timeout_fits_in_the_total() {
        for total in [Duration::from_millis(50), Duration::from_secs(2), DEFAULT_TIMEOUT, Duration::from_secs(MAX_TIMEOUT_SECONDS)] {
            let config = timeout_config(total);
            assert_eq!(config.operation_timeout(), Some(total));
            for part in [config.connect_timeout(), config.read_timeout(), config.operation_attempt_timeout()] {
                let part = part.expect("every bound is set");
                assert!(part <= total && !part.is_zero(), "{part:?} of {total:?}");
            }
        }
        assert!(DEFAULT_TIMEOUT < Duration::from_secs(300) / 2, "the default is well under the SDK's 300 s");
        assert_eq!(timeout_config(DEFAULT_TIMEOUT).connect_timeout(), Some(CONNECT_TIMEOUT));
    }
}
