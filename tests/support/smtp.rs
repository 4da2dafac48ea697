//! A real SMTP server for tests: speaks just enough SMTP (RFC 5321) for lettre to deliver, and
//! keeps every message it receives. It can be told to hold its answer to each message (the
//! `250` after DATA) until released, to see what a gateway does while its mail is in flight.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};

/// A delivered message.
#[derive(Debug, Clone)]
pub struct Mail {
    /// `RCPT TO` addresses.
    pub to: Vec<String>,
    /// The DATA section.
    pub data: String,
}

/// A running SMTP server.
pub struct Smtp {
    /// Where it listens.
    pub addr: SocketAddr,
    mails: Arc<Mutex<Vec<Mail>>>,
    arrived: Arc<Notify>,
    open: Arc<watch::Sender<bool>>,
}

impl Smtp {
    /// Starts the server on a loopback port.
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mails = Arc::new(Mutex::new(Vec::new()));
        let arrived = Arc::new(Notify::new());
        let open = Arc::new(watch::Sender::new(true));
        let (m, a, o) = (Arc::clone(&mails), Arc::clone(&arrived), Arc::clone(&open));
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (m, a) = (Arc::clone(&m), Arc::clone(&a));
                let mut gate = o.subscribe();
                tokio::spawn(async move {
                    let (read, mut write) = stream.into_split();
                    let mut lines = BufReader::new(read).lines();
                    let _ = write.write_all(b"220 test ESMTP\r\n").await;
                    let mut to = Vec::new();
                    while let Ok(Some(line)) = lines.next_line().await {
                        let upper = line.to_ascii_uppercase();
                        let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO")
                        {
                            b"250-test\r\n250 8BITMIME\r\n"
                        } else if upper.starts_with("MAIL FROM") {
                            b"250 ok\r\n"
                        } else if upper.starts_with("RCPT TO") {
                            to.push(
                                line[8..]
                                    .trim()
                                    .trim_matches(|c| c == '<' || c == '>')
                                    .to_owned(),
                            );
                            b"250 ok\r\n"
                        } else if upper.starts_with("DATA") {
                            let _ = write.write_all(b"354 go ahead\r\n").await;
                            let mut data = String::new();
                            while let Ok(Some(l)) = lines.next_line().await {
                                if l == "." {
                                    break;
                                }
                                data.push_str(&l);
                                data.push('\n');
                            }
                            m.lock().unwrap().push(Mail {
                                to: std::mem::take(&mut to),
                                data,
                            });
                            a.notify_waiters();
                            let _ = gate.wait_for(|open| *open).await;
                            b"250 queued\r\n"
                        } else if upper.starts_with("QUIT") {
                            let _ = write.write_all(b"221 bye\r\n").await;
                            return;
                        } else {
                            b"250 ok\r\n"
                        };
                        if write.write_all(reply).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        Self {
            addr,
            mails,
            arrived,
            open,
        }
    }

    /// From now on, each message is kept but not acknowledged (no `250` after DATA) until
    /// [`Smtp::release`]: the sender stays waiting.
    pub fn hold(&self) {
        self.open.send_replace(false);
    }

    /// Acknowledges every held message, and the ones after.
    pub fn release(&self) {
        self.open.send_replace(true);
    }

    /// The `[mail]` section that sends here.
    pub fn config(&self) -> String {
        format!(
            "[mail]\nsmtp_host = \"127.0.0.1\"\nsmtp_port = {}\nfrom = \"Gateway <noreply@gateway.test>\"\nstarttls = false\n",
            self.addr.port()
        )
    }

    /// Waits for a mail to `to` and returns it (readiness, not a sleep).
    pub async fn wait_for(&self, to: &str) -> Mail {
        self.wait_for_text(to, "").await
    }

    /// Waits for a mail to `to` whose DATA contains `text`, and returns the latest such.
    pub async fn wait_for_text(&self, to: &str, text: &str) -> Mail {
        loop {
            let notified = self.arrived.notified();
            if let Some(m) = self
                .mails
                .lock()
                .unwrap()
                .iter()
                .rev()
                .find(|m| m.to.iter().any(|t| t == to) && m.data.contains(text))
                .cloned()
            {
                return m;
            }
            tokio::time::timeout(std::time::Duration::from_secs(30), notified)
                .await
                .expect("no mail arrived");
        }
    }

    /// Mails received so far.
    pub fn count(&self) -> usize {
        self.mails.lock().unwrap().len()
    }
}

/// The code after `marker` in a mail body (`... code is XYZ`).
pub fn code_in(mail: &Mail, marker: &str) -> String {
    let at = mail.data.find(marker).expect("marker not in mail") + marker.len();
    mail.data[at..]
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned()
}
