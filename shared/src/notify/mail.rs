//! Where rendered e-mails go: SES on AWS ([`SesMailer`], feature `ses`), `.eml` files locally
//! ([`EmlFolder`]), memory in tests ([`RecordingMailer`]). Each takes the finished MIME
//! message, so every one of them sends the same bytes.

use std::path::{Path, PathBuf};

use async_trait::async_trait;

/// Why an e-mail was not sent (the delivery is retried).
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct MailError(#[from] pub anyhow::Error);

/// Sends one MIME message to one recipient.
#[async_trait]
pub trait Mailer: Send + Sync {
    /// Sends `raw` (a complete MIME message) to `to`; `name` identifies it for logs and files.
    async fn send(&self, name: &str, to: &str, raw: &[u8]) -> Result<(), MailError>;
}

/// Writes each e-mail as `<name>.eml` into a folder (the local server's outbox).
#[derive(Debug, Clone)]
pub struct EmlFolder {
    dir: PathBuf,
}

impl EmlFolder {
    /// A folder mailer; the folder is created on first use.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

#[async_trait]
impl Mailer for EmlFolder {
    async fn send(&self, name: &str, to: &str, raw: &[u8]) -> Result<(), MailError> {
        tokio::fs::create_dir_all(&self.dir)
            .await
            .map_err(|e| MailError(anyhow::Error::new(e).context("creating the outbox folder")))?;
        let path = self.dir.join(format!("{name}.eml"));
        // Written whole under a temporary name, then renamed: a reader never sees half a file.
        let partial = self.dir.join(format!(".{name}.eml.partial"));
        tokio::fs::write(&partial, raw)
            .await
            .map_err(|e| MailError(anyhow::Error::new(e).context("writing the e-mail")))?;
        tokio::fs::rename(&partial, &path)
            .await
            .map_err(|e| MailError(anyhow::Error::new(e).context("writing the e-mail")))?;
        tracing::info!(to, file = %path.display(), "e-mail written");
        Ok(())
    }
}

/// An e-mail as a mailer received it: the recipient and the MIME message.
pub type SentMail = (String, Vec<u8>);

/// Keeps every e-mail (recipient, MIME message), or fails them all while failing (tests).
#[cfg(any(test, feature = "test-support"))]
pub type RecordingMailer = super::Recorder<SentMail>;

#[cfg(any(test, feature = "test-support"))]
#[async_trait]
impl Mailer for RecordingMailer {
    async fn send(&self, _name: &str, to: &str, raw: &[u8]) -> Result<(), MailError> {
        self.keep((to.to_owned(), raw.to_vec()))
            .map_err(|()| MailError(anyhow::anyhow!("mail service unavailable")))
    }
}

#[cfg(feature = "ses")]
pub use ses::SesMailer;

#[cfg(feature = "ses")]
mod ses {
    use async_trait::async_trait;
    use aws_sdk_sesv2::{
        Client,
        error::{DisplayErrorContext, ProvideErrorMetadata, SdkError},
        primitives::Blob,
        types::{Destination, EmailContent, RawMessage},
    };

    use super::{MailError, Mailer};

    /// Sends through SES (v2 `SendEmail` with raw content) from the configured identity.
    #[derive(Debug, Clone)]
    pub struct SesMailer {
        client: Client,
        from: String,
        configuration_set: Option<String>,
    }

    impl SesMailer {
        /// A mailer sending as `from` (an identity verified in SES).
        pub fn new(client: Client, from: impl Into<String>) -> Self {
            Self { client, from: from.into(), configuration_set: None }
        }

        /// The same mailer sending through the SES configuration set `name`.
        pub fn with_configuration_set(mut self, name: Option<String>) -> Self {
            self.configuration_set = name;
            self
        }

        /// Opens the connection to SES during the cold start (one `GetAccount`), so the first
        /// e-mail does not pay the TLS handshake. Failures are only logged.
        pub async fn warm_up(&self) {
            match self.client.get_account().send().await {
                // Answered, even with an error such as AccessDenied: the connection is open.
                Ok(_) | Err(SdkError::ServiceError(_)) => {}
                Err(error) => {
                    tracing::warn!(error = %DisplayErrorContext(&error), "SES warm-up failed")
                }
            }
        }
    }

    #[async_trait]
    impl Mailer for SesMailer {
        async fn send(&self, name: &str, to: &str, raw: &[u8]) -> Result<(), MailError> {
            let message = RawMessage::builder()
                .data(Blob::new(raw))
                .build()
                .map_err(|e| MailError(e.into()))?;
            self.client
                .send_email()
                .from_email_address(&self.from)
                .destination(Destination::builder().to_addresses(to).build())
                .content(EmailContent::builder().raw(message).build())
                .set_configuration_set_name(self.configuration_set.clone())
                .send()
                .await
                .map_err(|error| {
                    let text = format!(
                        "SendEmail failed for {name} ({}: {})",
                        error.code().unwrap_or("unknown"),
                        error.message().unwrap_or("no message")
                    );
                    MailError(anyhow::Error::new(error).context(text))
                })?;
            Ok(())
        }
    }
}
