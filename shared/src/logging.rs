//! Log set-up for the Lambda functions: one `tracing` subscriber that follows Lambda's
//! advanced logging controls (`AWS_LAMBDA_LOG_FORMAT=JSON`) and filters at `LOG_LEVEL` (the
//! template's LogLevel), else `AWS_LAMBDA_LOG_LEVEL`, else `RUST_LOG`, `INFO` by default.
//!
//! The template leaves Lambda's own filter at TRACE and sets `LOG_LEVEL`: Lambda reads a JSON
//! line without a `level` (every embedded-metric line) as INFO and would drop it under WARN,
//! so the functions filter their own log lines and Lambda filters nothing.
//!
//! Levels only, no per-module directives: a level filter needs no regular-expression engine,
//! which keeps one out of every function (together with dropping the SSO and
//! credential-process providers: 4,765,483 → 4,527,081 B for the auth function's arm64 zip).

use tracing_subscriber::filter::LevelFilter;

/// The level named by `LOG_LEVEL`, else `AWS_LAMBDA_LOG_LEVEL`, else `RUST_LOG`, else `INFO`. Lambda's own
/// names (`TRACE` … `FATAL`) and tracing's (`trace` … `error`, `off`) are both understood; an
/// unknown value means `INFO`.
pub fn level_from(lookup: impl Fn(&str) -> Option<String>) -> LevelFilter {
    let value = lookup("LOG_LEVEL")
        .or_else(|| lookup("AWS_LAMBDA_LOG_LEVEL"))
        .or_else(|| lookup("RUST_LOG"));
    match value.as_deref().map(str::to_ascii_lowercase).as_deref() {
        Some("fatal") => LevelFilter::ERROR,
        Some(other) => other.parse().unwrap_or(LevelFilter::INFO),
        None => LevelFilter::INFO,
    }
}

/// The span of one invocation that is not an HTTP request (an SQS batch, a schedule): every
/// line logged inside it carries the invocation's request id and X-Ray trace id (the `Root`
/// part of Lambda's trace header).
pub fn invocation_span(request_id: &str, trace_header: Option<&str>) -> tracing::Span {
    let trace_id = trace_header.map(trace_root);
    tracing::info_span!("invocation", request_id, trace_id)
}

/// The trace id of an X-Ray trace header (`Root=1-…;Parent=…;Sampled=1` → `1-…`); a header
/// without a `Root` part is taken as the id itself.
pub fn trace_root(header: &str) -> &str {
    header.split(';').find_map(|part| part.strip_prefix("Root=")).unwrap_or(header)
}

/// Installs the subscriber: JSON lines when Lambda asks for JSON, plain lines otherwise; no
/// timestamps (Lambda adds its own) and no ANSI colours.
pub fn init_lambda() {
    let lookup = |name: &str| std::env::var(name).ok();
    let json = lookup("AWS_LAMBDA_LOG_FORMAT").is_some_and(|f| f.eq_ignore_ascii_case("json"));
    let builder = tracing_subscriber::fmt()
        .with_max_level(level_from(lookup))
        .with_target(false)
        .with_ansi(false)
        .without_time();
    if json { builder.json().init() } else { builder.init() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn level(vars: &[(&str, &str)]) -> LevelFilter {
        level_from(|name| vars.iter().find(|(n, _)| *n == name).map(|(_, v)| (*v).to_owned()))
    }

    #[derive(Clone, Default)]
    struct Lines(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Lines {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn lines_of_an_invocation_carry_its_request_and_trace_ids() {
        let lines = Lines::default();
        let writer = lines.clone();
        let subscriber = tracing_subscriber::fmt().json().with_writer(move || writer.clone());
        tracing::subscriber::with_default(subscriber.finish(), || {
            let header =
                "Root=1-6750e3a1-0123456789abcdef01234567;Parent=53995c3f42cd8ad8;Sampled=1";
            let _entered = invocation_span("c0ffee", Some(header)).entered();
            tracing::info!("order e-mail sent");
        });
        let text = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
        let line: serde_json::Value = serde_json::from_str(text.trim()).unwrap();
        assert_eq!(line["span"]["trace_id"], "1-6750e3a1-0123456789abcdef01234567");
        assert_eq!(line["span"]["request_id"], "c0ffee");
    }

    #[test]
    fn lambdas_level_wins_over_rust_log_and_info_is_the_default() {
        assert_eq!(level(&[]), LevelFilter::INFO);
        // The template's LOG_LEVEL wins over Lambda's filter, which it leaves at TRACE.
        let deployed = [("LOG_LEVEL", "WARN"), ("AWS_LAMBDA_LOG_LEVEL", "TRACE")];
        assert_eq!(level(&deployed), LevelFilter::WARN);
        assert_eq!(level(&[("RUST_LOG", "debug")]), LevelFilter::DEBUG);
        assert_eq!(
            level(&[("RUST_LOG", "debug"), ("AWS_LAMBDA_LOG_LEVEL", "WARN")]),
            LevelFilter::WARN
        );
        assert_eq!(level(&[("AWS_LAMBDA_LOG_LEVEL", "FATAL")]), LevelFilter::ERROR);
        assert_eq!(level(&[("AWS_LAMBDA_LOG_LEVEL", "TRACE")]), LevelFilter::TRACE);
        assert_eq!(level(&[("RUST_LOG", "off")]), LevelFilter::OFF);
        assert_eq!(level(&[("RUST_LOG", "shared=debug,info")]), LevelFilter::INFO);
    }
}
