//! The mail boundary: one [`Mailer`] trait and its SMTP implementation on lettre.
//!
//! The digest sender is the only caller. It hands over a fully rendered
//! [`OutgoingMail`] (subject, text, HTML, a Message-ID derived from the digest
//! period), then sends it to each recipient in an envelope of its own and
//! records each outcome in the outbox. Everything that touches the network
//! lives here, so the outbox logic stays testable against a real local SMTP
//! server without mocks.

use std::future::Future;
use std::time::Duration;

use lettre::address::Envelope;
use lettre::message::{Mailbox, MultiPart, header};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

pub use crate::config::{Secret, SmtpTls};

/// A message ready to go: everything is already rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMail {
    /// `Name <addr@host>` or a bare address.
    pub from: String,
    /// Every recipient, as the `To:` header names them. Each gets the
    /// message in an envelope of its own ([`MailSession::send_to`]).
    pub to: Vec<String>,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// A full `<…@…>` Message-ID. The same digest always carries the same id,
    /// so a receiver can drop the duplicate of a resend.
    pub message_id: String,
}

/// What the server said when it took the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    pub message_id: String,
    /// The server's reply, e.g. `250 OK queued as 4F2A`.
    pub reply: String,
}

/// Opens a session for one message.
///
/// Called by the digest job (`jobs::digest`) once per outbox row and
/// attempt, never concurrently for the same row. `Err` means the message
/// cannot be built (an address that does not parse): no recipient can get
/// it, and retrying cannot help.
pub trait Mailer: Send + Sync {
    type Session: MailSession;
    fn open(&self, mail: &OutgoingMail) -> Result<Self::Session, MailError>;
}

/// One message on its way: the same bytes (the same Message-ID, the same
/// headers) to each recipient in turn, over a connection kept open between
/// them. The caller records each outcome before it sends the next.
pub trait MailSession: Send {
    /// Sends the message in an envelope to `recipient` alone (`Name <addr>`
    /// or a bare address). `Ok` means the server accepted it for delivery.
    /// `Err` means it did not: [`MailError::ends_attempt`] tells whether the
    /// relay itself failed (the next recipients would fail the same way),
    /// [`MailError::is_permanent`] whether retrying this recipient can help
    /// (a timeout or a 4xx can; a `550 user unknown` cannot). A connection
    /// that drops after the message's last byte but before the server's
    /// reply is an `Err`: the caller retries, the one ambiguous case.
    fn send_to(&mut self, recipient: &str) -> impl Future<Output = Result<Accepted, MailError>> + Send;

    /// Ends the session: `QUIT` on the connection still open.
    fn close(self) -> impl Future<Output = ()> + Send;
}

/// Validated `[smtp]` settings.
#[derive(Debug, Clone)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    /// Empty: no authentication.
    pub username: String,
    pub password: Option<Secret>,
    /// Bounds the TCP connect and every SMTP command.
    pub connect_timeout: Duration,
    /// Bounds one whole send, from connect to the server's final reply.
    pub send_timeout: Duration,
}

impl SmtpSettings {
    pub fn from_config(c: &crate::config::SmtpConfig) -> SmtpSettings {
        SmtpSettings {
            host: c.host.clone(),
            port: c.port,
            tls: c.tls,
            username: c.username.clone(),
            password: c.password.clone(),
            connect_timeout: c.connect_timeout,
            send_timeout: c.timeout,
        }
    }
}

impl Default for SmtpSettings {
    fn default() -> Self {
        SmtpSettings {
            host: "localhost".to_owned(),
            port: 587,
            tls: SmtpTls::StartTls,
            username: String::new(),
            password: None,
            connect_timeout: Duration::from_secs(10),
            send_timeout: Duration::from_secs(60),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("invalid mail address {address:?}")]
    Address {
        address: String,
        #[source]
        source: lettre::address::AddressError,
    },
    #[error("cannot build the message")]
    Build(#[source] lettre::error::Error),
    #[error("SMTP server {server} refused the message: {reason}")]
    Rejected {
        server: String,
        /// The server's reply, e.g. `permanent error (550): 5.1.1 <x@y>: Recipient address rejected`.
        reason: String,
        permanent: bool,
        #[source]
        source: lettre::transport::smtp::Error,
    },
    #[error("cannot deliver to SMTP server {server}{hint}")]
    Transport {
        server: String,
        /// Empty, or `" (hint: …)"`.
        hint: String,
        #[source]
        source: lettre::transport::smtp::Error,
    },
    #[error("SMTP server {server} did not finish within {timeout:?}{hint}")]
    Timeout { server: String, timeout: Duration, hint: String },
    /// The message needs an extension the server does not offer (SMTPUTF8
    /// for a mailbox name in another script): no retry can help.
    #[error("SMTP server {server} cannot take this message: {reason}")]
    Unsupported {
        server: String,
        reason: String,
        #[source]
        source: lettre::transport::smtp::Error,
    },
}

impl MailError {
    /// Retrying the same message cannot succeed (until someone changes the
    /// configuration or the recipient list).
    pub fn is_permanent(&self) -> bool {
        match self {
            MailError::Address { .. } | MailError::Build(_) | MailError::Unsupported { .. } => true,
            MailError::Rejected { permanent, .. } => *permanent,
            MailError::Transport { .. } | MailError::Timeout { .. } => false,
        }
    }

    /// The relay failed, not this one envelope: no connection, a timeout, a
    /// dropped connection, a `421` (the server is closing the channel), a
    /// message that cannot be built. The recipients after this one would
    /// fail the same way (each after a timeout, maybe), so the attempt ends
    /// and is retried with every recipient not yet delivered. A reply about
    /// the envelope (`550 user unknown`, `450 greylisted`, a mailbox name
    /// that needs SMTPUTF8) is that recipient's outcome alone.
    pub fn ends_attempt(&self) -> bool {
        match self {
            MailError::Address { .. } | MailError::Unsupported { .. } => false,
            MailError::Rejected { source, .. } => source.status().is_some_and(|code| code.to_string() == "421"),
            MailError::Build(_) | MailError::Transport { .. } | MailError::Timeout { .. } => true,
        }
    }

    /// One line for the outbox's `last_error` and the CLI: the error and its causes.
    pub fn report(&self) -> String {
        crate::error_chain(self)
    }
}

/// The mismatch people hit most: implicit TLS on a STARTTLS port or the reverse.
fn tls_hint(tls: SmtpTls, port: u16) -> Option<&'static str> {
    match (tls, port) {
        (SmtpTls::StartTls | SmtpTls::None, 465) => {
            Some("port 465 expects TLS from the first byte; set smtp.tls = \"tls\"")
        }
        (SmtpTls::Tls, 25 | 587 | 2525) => {
            Some("this port usually speaks plain SMTP first; set smtp.tls = \"starttls\"")
        }
        _ => None,
    }
}

fn hint_for(settings: &SmtpSettings, err: Option<&lettre::transport::smtp::Error>) -> String {
    let text = tls_hint(settings.tls, settings.port).map(str::to_owned).or_else(|| {
        let err = err?;
        let chain = format!("{err:?}");
        if chain.contains("STARTTLS is not supported") {
            Some("the server does not offer STARTTLS; use smtp.tls = \"none\" only for a local relay".to_owned())
        } else if chain.contains("InvalidContentType") || chain.contains("corrupt message") {
            Some("the server answered in plain text, not TLS; use smtp.tls = \"starttls\" (or \"none\" for a local relay)".to_owned())
        } else if err.is_tls() {
            Some(format!(
                "TLS handshake failed; check smtp.tls (now {:?}) and the certificate of {}",
                settings.tls, settings.host
            ))
        } else if chain.contains("ConnectionRefused") || chain.contains("Connection refused") {
            Some(format!(
                "nothing listens on {}:{}; is the SMTP server up and the port right?",
                settings.host, settings.port
            ))
        } else {
            None
        }
    });
    text.map(|t| format!(" (hint: {t})")).unwrap_or_default()
}

/// A server that expects TLS from the first byte never sends a plain-text
/// greeting, so STARTTLS or plain mode just waits: say so.
fn timeout_hint(settings: &SmtpSettings) -> String {
    let hint = hint_for(settings, None);
    if !hint.is_empty() || settings.tls == SmtpTls::Tls {
        return hint;
    }
    " (hint: no SMTP greeting; if this port expects TLS from the first byte, set smtp.tls = \"tls\")".to_owned()
}

/// Parses `Name <addr>` or a bare address. A domain written in another
/// script (`例子.中国`) is put in its ASCII form (IDNA, `xn--…`): the same
/// domain, deliverable through relays without SMTPUTF8. A mailbox name in
/// another script (`张三@…`) has no ASCII form and keeps needing SMTPUTF8.
fn mailbox(address: &str) -> Result<Mailbox, MailError> {
    let mut mailbox = address
        .trim()
        .parse::<Mailbox>()
        .map_err(|source| MailError::Address { address: address.to_owned(), source })?;
    let domain = mailbox.email.domain();
    if !domain.is_ascii()
        && let Ok(url::Host::Domain(ascii)) = url::Host::parse(domain)
        && let Ok(email) = lettre::Address::new(mailbox.email.user(), ascii)
    {
        mailbox.email = email;
    }
    Ok(mailbox)
}

/// Whether `address` (`Name <addr>` or a bare address) is one a message
/// can be sent to or from: the config checks its addresses with the same
/// parser the sender uses. The error says why not.
pub fn check_address(address: &str) -> Result<(), String> {
    mailbox(address).map(|_| ()).map_err(|e| match e {
        MailError::Address { source, .. } => source.to_string(),
        other => other.to_string(),
    })
}

/// The envelope address of `address` (`Name <addr>` or a bare address):
/// the mailbox alone, its domain in ASCII and lower case. The outbox keys a
/// recipient's delivery by it, so a new display name is the same recipient.
pub fn envelope_address(address: &str) -> Result<String, MailError> {
    let email = mailbox(address)?.email;
    Ok(format!("{}@{}", email.user(), email.domain().to_ascii_lowercase()))
}

/// Builds the MIME message: multipart/alternative with the text part first
/// (the fallback) and the HTML part last (the preferred one), both UTF-8.
pub fn build_message(mail: &OutgoingMail) -> Result<Message, MailError> {
    let mut builder = Message::builder()
        .from(mailbox(&mail.from)?)
        .subject(mail.subject.clone())
        .message_id(Some(mail.message_id.clone()))
        .header(header::MIME_VERSION_1_0);
    for to in &mail.to {
        builder = builder.to(mailbox(to)?);
    }
    builder.multipart(MultiPart::alternative_plain_html(mail.text.clone(), mail.html.clone())).map_err(MailError::Build)
}

/// [`Mailer`] over SMTP. Each session has its own transport, whose pool
/// keeps one connection open from one recipient to the next; it is closed
/// with the session: digests go out weekly, so a connection kept longer
/// would only ever be stale.
#[derive(Debug, Clone)]
pub struct SmtpMailer {
    settings: SmtpSettings,
}

impl SmtpMailer {
    pub fn new(settings: SmtpSettings) -> SmtpMailer {
        SmtpMailer { settings }
    }

    fn server(&self) -> String {
        format!("{}:{}", self.settings.host, self.settings.port)
    }

    fn transport(&self) -> Result<AsyncSmtpTransport<Tokio1Executor>, MailError> {
        let s = &self.settings;
        let tls = match s.tls {
            SmtpTls::None => Tls::None,
            SmtpTls::StartTls | SmtpTls::Tls => {
                let params = TlsParameters::new(s.host.clone()).map_err(|source| MailError::Transport {
                    server: self.server(),
                    hint: hint_for(s, None),
                    source,
                })?;
                if s.tls == SmtpTls::Tls { Tls::Wrapper(params) } else { Tls::Required(params) }
            }
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(s.host.clone())
            .port(s.port)
            .tls(tls)
            .timeout(Some(s.connect_timeout));
        if !s.username.is_empty() {
            let password = s.password.as_ref().map(|p| p.expose().to_owned()).unwrap_or_default();
            builder = builder.credentials(Credentials::new(s.username.clone(), password));
        }
        Ok(builder.build())
    }

    /// Maps what lettre reported for one envelope.
    fn send_error(&self, source: lettre::transport::smtp::Error, non_ascii: &[String]) -> MailError {
        if source.is_permanent() || source.is_transient() {
            return MailError::Rejected {
                server: self.server(),
                reason: source.to_string(),
                permanent: source.is_permanent(),
                source,
            };
        }
        if source.is_client() && !non_ascii.is_empty() && source.to_string().contains("SMTPUTF8") {
            return MailError::Unsupported {
                server: self.server(),
                reason: format!(
                    "{} need(s) SMTPUTF8, which it does not offer; use an ASCII address or a relay with SMTPUTF8",
                    non_ascii.join(", ")
                ),
                source,
            };
        }
        if source.is_timeout() {
            return MailError::Timeout {
                server: self.server(),
                timeout: self.settings.connect_timeout,
                hint: timeout_hint(&self.settings),
            };
        }
        MailError::Transport { server: self.server(), hint: hint_for(&self.settings, Some(&source)), source }
    }
}

impl SmtpMailer {
    /// Does what a send does up to the message — connect, EHLO, STARTTLS or
    /// TLS, AUTH when a username is set — then NOOP and QUIT: nothing is
    /// sent. `doctor` uses it to prove the relay settings before a digest
    /// depends on them.
    pub async fn verify(&self) -> Result<(), MailError> {
        let transport = self.transport()?;
        let timeout = self.settings.send_timeout;
        match tokio::time::timeout(timeout, transport.test_connection()).await {
            Err(_) => Err(MailError::Timeout { server: self.server(), timeout, hint: timeout_hint(&self.settings) }),
            Ok(Ok(_)) => Ok(()),
            Ok(Err(source)) if source.is_permanent() || source.is_transient() => Err(MailError::Rejected {
                server: self.server(),
                reason: source.to_string(),
                permanent: source.is_permanent(),
                source,
            }),
            Ok(Err(source)) => Err(MailError::Transport {
                server: self.server(),
                hint: hint_for(&self.settings, Some(&source)),
                source,
            }),
        }
    }
}

impl Mailer for SmtpMailer {
    type Session = SmtpSession;

    fn open(&self, mail: &OutgoingMail) -> Result<SmtpSession, MailError> {
        let message = build_message(mail)?;
        Ok(SmtpSession {
            mailer: self.clone(),
            transport: self.transport()?,
            from: mailbox(&mail.from)?.email,
            message: message.formatted(),
            message_id: mail.message_id.clone(),
        })
    }
}

/// [`MailSession`] over SMTP: the message formatted once, sent with
/// lettre's `send_raw` to one envelope recipient at a time. A refused
/// envelope closes its connection (lettre's rule); the next recipient
/// opens another.
pub struct SmtpSession {
    mailer: SmtpMailer,
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: lettre::Address,
    message: Vec<u8>,
    message_id: String,
}

impl MailSession for SmtpSession {
    async fn send_to(&mut self, recipient: &str) -> Result<Accepted, MailError> {
        let to = mailbox(recipient)?.email;
        // Addresses that need SMTPUTF8, for the error if the server lacks it.
        let non_ascii: Vec<String> =
            [&self.from, &to].into_iter().map(ToString::to_string).filter(|a| !a.is_ascii()).collect();
        let envelope = Envelope::new(Some(self.from.clone()), vec![to]).map_err(MailError::Build)?;
        let timeout = self.mailer.settings.send_timeout;
        match tokio::time::timeout(timeout, self.transport.send_raw(&envelope, &self.message)).await {
            Err(_) => Err(MailError::Timeout {
                server: self.mailer.server(),
                timeout,
                hint: timeout_hint(&self.mailer.settings),
            }),
            Ok(Ok(response)) => Ok(Accepted {
                message_id: self.message_id.clone(),
                reply: format!("{} {}", response.code(), response.message().collect::<Vec<_>>().join(" ")),
            }),
            Ok(Err(source)) => Err(self.mailer.send_error(source, &non_ascii)),
        }
    }

    async fn close(self) {
        // Bounded like a send: a relay that stops answering does not hold
        // the sender at QUIT.
        let _ = tokio::time::timeout(self.mailer.settings.send_timeout, self.transport.shutdown()).await;
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn mail() -> OutgoingMail {
        OutgoingMail {
            from: "modelwatch <modelwatch@example.com>".to_owned(),
            to: vec!["研究组 <team@example.com>".to_owned()],
            subject: "modelwatch 周报 2026-11-23 – 2026-11-30：3 处内容变更".to_owned(),
            text: "本期共 3 处变更。\n".to_owned(),
            html: "<p>本期共 3 处变更。</p>".to_owned(),
            message_id: "<digest-2026-11-30.all@example.com>".to_owned(),
        }
    }

    #[test]
    fn message_is_multipart_alternative_with_encoded_chinese_subject() {
        let raw = String::from_utf8(build_message(&mail()).unwrap().formatted()).unwrap();
        assert!(raw.contains("Content-Type: multipart/alternative"), "{raw}");
        assert!(raw.contains("Message-ID: <digest-2026-11-30.all@example.com>"), "{raw}");
        // RFC 2047: the header line itself stays ASCII.
        let subject = raw.lines().find(|l| l.starts_with("Subject:")).unwrap();
        assert!(subject.is_ascii() && subject.contains("=?utf-8?"), "{subject}");
        let text_at = raw.find("Content-Type: text/plain; charset=utf-8").unwrap();
        let html_at = raw.find("Content-Type: text/html; charset=utf-8").unwrap();
        assert!(text_at < html_at, "text part must come first");
    }

    #[test]
    fn bad_addresses_are_permanent_errors() {
        let mut m = mail();
        m.to = vec!["not an address".to_owned()];
        let err = build_message(&m).unwrap_err();
        assert!(err.is_permanent());
        assert!(err.to_string().contains("not an address"));
    }

    #[test]
    fn an_envelope_address_is_the_mailbox_alone_with_an_ascii_lower_case_domain() {
        assert_eq!(envelope_address("研究组 <Team@Example.COM>").unwrap(), "Team@example.com");
        assert_eq!(envelope_address(" lead@例子.中国 ").unwrap(), "lead@xn--fsqu00a.xn--fiqs8s");
        assert!(envelope_address("not an address").unwrap_err().is_permanent());
    }

    #[test]
    fn hints_name_the_tls_mode_that_matches_the_port() {
        assert!(tls_hint(SmtpTls::StartTls, 465).unwrap().contains("\"tls\""));
        assert!(tls_hint(SmtpTls::Tls, 587).unwrap().contains("\"starttls\""));
        assert!(tls_hint(SmtpTls::StartTls, 587).is_none());
    }

    #[tokio::test]
    async fn a_silent_server_times_out_with_the_implicit_tls_hint() {
        // Like an implicit-TLS server: accepts, then waits for a ClientHello
        // that a STARTTLS client never sends.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let hold = tokio::spawn(async move {
            let (_socket, _) = listener.accept().await.unwrap();
            tokio::time::sleep(Duration::from_secs(5)).await;
        });
        let mailer = SmtpMailer::new(SmtpSettings {
            host: "127.0.0.1".to_owned(),
            port,
            tls: SmtpTls::StartTls,
            connect_timeout: Duration::from_millis(300),
            send_timeout: Duration::from_secs(1),
            ..SmtpSettings::default()
        });
        let err = mailer.open(&mail()).unwrap().send_to("team@example.com").await.unwrap_err();
        hold.abort();
        assert!(matches!(err, MailError::Timeout { .. }) && err.ends_attempt(), "{err:?}");
        assert!(err.report().contains("expects TLS from the first byte"), "{}", err.report());
    }

    #[tokio::test]
    async fn refused_connection_is_transient_with_a_hint() {
        // Bind then drop to get a port nobody listens on.
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mailer = SmtpMailer::new(SmtpSettings {
            host: "127.0.0.1".to_owned(),
            port,
            tls: SmtpTls::None,
            connect_timeout: Duration::from_secs(2),
            send_timeout: Duration::from_secs(5),
            ..SmtpSettings::default()
        });
        let err = mailer.open(&mail()).unwrap().send_to("team@example.com").await.unwrap_err();
        assert!(!err.is_permanent() && err.ends_attempt(), "{err:?}");
        assert!(err.report().contains("nothing listens on 127.0.0.1"), "{}", err.report());
    }
}
