//! Outgoing mail: SMTP through lettre when `[mail]` is configured, otherwise the log; the
//! password-reset queue ([`outbox`]) and the email address rule ([`address`]).
//!
//! Without `[mail]`, confirmation and reset codes are written to the log at `info`: meant for
//! development, and said so in the README. This module owns sending and `[mail]`'s checked
//! type ([`MailConfig`], which the configuration fills); what a mail says is the user service's.

pub(crate) mod address;
pub(crate) mod outbox;

use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// `[mail]`: SMTP for confirmation and reset mails.
#[derive(Debug, Clone)]
pub struct MailConfig {
    /// Server host.
    pub smtp_host: String,
    /// Server port.
    pub smtp_port: u16,
    /// Sender mailbox.
    pub from: String,
    /// Credentials, when the server wants them.
    pub credentials: Option<(String, String)>,
    /// Use STARTTLS.
    pub starttls: bool,
}

/// Where mail goes.
pub(crate) enum Mailer {
    /// A real SMTP relay.
    Smtp {
        /// The transport (pooled).
        transport: Box<AsyncSmtpTransport<Tokio1Executor>>,
        /// The sender.
        from: Mailbox,
    },
    /// The log (no `[mail]` section).
    Log,
}

/// Why a mail was not sent.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// An address (the recipient, or `mail.from`) is not a mailbox.
    #[error("invalid mailbox: {0}")]
    Recipient(#[source] lettre::address::AddressError),
    /// The message could not be built.
    #[error("cannot build the message: {0}")]
    Build(#[source] lettre::error::Error),
    /// The SMTP exchange failed.
    #[error("SMTP: {0}")]
    Smtp(#[source] lettre::transport::smtp::Error),
}

/// A mail that could not be sent answers 503 `DAUTH-5033`; its cause is logged.
impl From<MailError> for crate::error::Error {
    fn from(e: MailError) -> Self {
        Self::MailUnavailable(Box::new(e))
    }
}

impl Mailer {
    /// The mailer for a configuration.
    pub(crate) fn new(config: Option<&MailConfig>) -> Result<Self, MailError> {
        let Some(c) = config else {
            return Ok(Self::Log);
        };
        let builder = if c.starttls {
            AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&c.smtp_host)
                .map_err(MailError::Smtp)?
        } else {
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&c.smtp_host)
        };
        let builder = builder.port(c.smtp_port);
        let builder = match &c.credentials {
            Some((user, pass)) => builder.credentials(Credentials::new(user.clone(), pass.clone())),
            None => builder,
        };
        let from = c.from.parse().map_err(MailError::Recipient)?;
        Ok(Self::Smtp {
            transport: Box::new(builder.build()),
            from,
        })
    }

    /// Sends a plain-text mail.
    pub(crate) async fn send(
        &self,
        to: &str,
        subject: &str,
        body: String,
    ) -> Result<(), MailError> {
        match self {
            Self::Log => {
                tracing::info!(to, subject, body = %body, "mail (no [mail] section: logged, not sent)");
                Ok(())
            }
            Self::Smtp { transport, from } => {
                let to: Mailbox = to.parse().map_err(MailError::Recipient)?;
                let message = Message::builder()
                    .from(from.clone())
                    .to(to)
                    .subject(subject)
                    .header(ContentType::TEXT_PLAIN)
                    .body(body)
                    .map_err(MailError::Build)?;
                transport
                    .send(message)
                    .await
                    .map(drop)
                    .map_err(MailError::Smtp)
            }
        }
    }
}
