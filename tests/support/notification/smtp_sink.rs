//! [`SmtpSink`]: a real SMTP server (mailin-embedded) on a free loopback port.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use pathway_notification::settings::{SmtpSettings, SmtpTls};

/// An e-mail the SMTP sink took.
#[derive(Debug, Clone)]
pub struct Mail {
    /// The envelope's recipients (`RCPT TO`).
    pub recipients: Vec<String>,
    /// The message as it came, headers and body.
    pub raw: String,
}

impl Mail {
    /// The first header called `name`, unfolded.
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.raw.split("\r\n\r\n").next().unwrap_or_default();
        let mut found: Option<String> = None;
        for line in head.split("\r\n") {
            if line.starts_with([' ', '\t']) {
                if let Some(value) = found.as_mut() {
                    value.push(' ');
                    value.push_str(line.trim());
                }
                continue;
            }
            if found.is_some() {
                break;
            }
            if let Some((key, value)) = line.split_once(':')
                && key.eq_ignore_ascii_case(name)
            {
                found = Some(value.trim().to_owned());
            }
        }
        found
    }

    /// The body, decoded from its transfer encoding.
    pub fn body(&self) -> String {
        let body = self
            .raw
            .split_once("\r\n\r\n")
            .map(|(_, body)| body)
            .unwrap_or_default();
        match self.header("Content-Transfer-Encoding").as_deref() {
            Some("quoted-printable") => String::from_utf8(
                quoted_printable::decode(body, quoted_printable::ParseMode::Strict)
                    .expect("valid quoted-printable"),
            )
            .expect("UTF-8"),
            None | Some("7bit" | "8bit") => body.to_owned(),
            Some(other) => panic!("the test sink does not decode {other}"),
        }
    }
}

#[derive(Default)]
struct SmtpState {
    mails: Vec<Mail>,
    /// Reply codes for the next messages' end of data, in order; then 250.
    script: VecDeque<u16>,
    /// Messages whose data was sent in full, taken or not.
    transactions: usize,
}

/// One SMTP session's handler (mailin clones it per connection).
#[derive(Clone)]
struct SmtpHandler {
    state: Arc<Mutex<SmtpState>>,
    recipients: Vec<String>,
    data: Vec<u8>,
}

impl mailin_embedded::Handler for SmtpHandler {
    fn data_start(
        &mut self,
        _domain: &str,
        _from: &str,
        _is8bit: bool,
        to: &[String],
    ) -> mailin_embedded::Response {
        self.recipients = to.to_vec();
        self.data.clear();
        mailin_embedded::response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> mailin_embedded::Response {
        let mut state = self.state.lock().expect("smtp state");
        state.transactions += 1;
        if let Some(code) = state.script.pop_front() {
            return mailin_embedded::Response::custom(code, format!("scripted {code}"));
        }
        state.mails.push(Mail {
            recipients: std::mem::take(&mut self.recipients),
            raw: String::from_utf8_lossy(&self.data).into_owned(),
        });
        mailin_embedded::response::OK
    }
}

/// A real SMTP server on a free loopback port (plain text, no AUTH), taking
/// every message unless scripted otherwise.
#[derive(Clone)]
pub struct SmtpSink {
    pub port: u16,
    state: Arc<Mutex<SmtpState>>,
}

impl SmtpSink {
    pub fn start() -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
        let port = listener.local_addr().expect("an address").port();
        let state = Arc::new(Mutex::new(SmtpState::default()));
        let mut server = mailin_embedded::Server::new(SmtpHandler {
            state: state.clone(),
            recipients: Vec::new(),
            data: Vec::new(),
        });
        server
            .with_name("smtp-sink.test")
            .with_ssl(mailin_embedded::SslConfig::None)
            .expect("no TLS")
            .with_num_threads(4)
            .with_tcp_listener(listener);
        // Blocking I/O on its own thread, for the life of the test binary.
        std::thread::spawn(move || {
            if let Err(error) = server.serve() {
                eprintln!("the SMTP sink stopped: {error}");
            }
        });
        Self { port, state }
    }

    /// The next messages' replies at the end of data, in order; then 250.
    pub fn script(&self, codes: &[u16]) {
        self.state
            .lock()
            .expect("smtp state")
            .script
            .extend(codes.iter().copied());
    }

    pub fn mails(&self) -> Vec<Mail> {
        self.state.lock().expect("smtp state").mails.clone()
    }

    pub fn transactions(&self) -> usize {
        self.state.lock().expect("smtp state").transactions
    }

    /// Settings that send to this sink.
    pub fn settings(&self) -> SmtpSettings {
        SmtpSettings {
            host: Some("127.0.0.1".into()),
            port: self.port,
            tls: SmtpTls::None,
            username: None,
            password: None,
            from: "NHS Highland pain service <pain.service@highland.example.org>".into(),
            message_id_domain: None,
            timeout_ms: 2000,
        }
    }
}
