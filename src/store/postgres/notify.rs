//! Changes to the stored clients, heard from every replica: `admin client add` and `remove`
//! send `NOTIFY dauth_clients` in their transaction, and [`listen`] holds a connection of its
//! own that `LISTEN`s and wakes a [`tokio::sync::Notify`] on each notification. A lost
//! connection is re-made after a pause; a notification missed meanwhile is caught by the
//! caller's periodic re-read (the fallback the app runs beside this).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio_postgres::AsyncMessage;

/// The channel stored-client changes are announced on.
pub const CHANNEL: &str = "dauth_clients";

/// Listens for stored-client changes on `connect`'s database until the task is aborted,
/// waking `changed` on each one, and once each time `LISTEN` takes effect (a change made
/// before that, at start-up or while disconnected, would otherwise be missed).
pub async fn listen(connect: tokio_postgres::Config, changed: Arc<Notify>) {
    loop {
        match connect.connect(tokio_postgres::NoTls).await {
            Ok((client, mut connection)) => {
                let driver = async {
                    while let Some(message) =
                        std::future::poll_fn(|cx| connection.poll_message(cx)).await
                    {
                        match message {
                            Ok(AsyncMessage::Notification(_)) => changed.notify_one(),
                            Ok(_) => {}
                            Err(e) => return e.to_string(),
                        }
                    }
                    "connection closed".to_owned()
                };
                let (client, changed) = (&client, &changed);
                let subscribe = async move {
                    if let Err(e) = client.batch_execute(&format!("LISTEN {CHANNEL}")).await {
                        tracing::warn!(error = %e, "LISTEN for client changes failed");
                    } else {
                        changed.notify_one();
                    }
                    std::future::pending::<()>().await;
                };
                tokio::select! {
                    why = driver => tracing::warn!(reason = %why, "client-change listener lost its connection"),
                    () = subscribe => {}
                }
            }
            Err(e) => tracing::warn!(error = %e, "client-change listener cannot connect"),
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}
