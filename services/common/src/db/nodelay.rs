//! `TCP_NODELAY` on the connections to PostgreSQL.
//!
//! sqlx 0.9.0 opens its TCP sockets without `TCP_NODELAY` (sqlx issue 4335;
//! fixed upstream by pull request 4336, not yet in a release). A statement
//! longer than one TCP segment then ends in a short segment that Nagle's
//! algorithm holds back until the server acknowledges the rest, and the
//! server delays that acknowledgement by up to 40 ms: every large
//! statement, such as a batch of analytics rows, waited 40 ms, which capped
//! ingest on PostgreSQL near 5,000 events/s.
//!
//! sqlx gives no hook to the socket it opens. So each time the pool opens a
//! connection, every TCP socket of this process connected to the database's
//! port is given `TCP_NODELAY` through a duplicate of its descriptor
//! (`pidfd_getfd`, Linux 5.6 and later): the option belongs to the socket,
//! not to the descriptor. Setting it on another connection to the same port
//! does no harm; it is what libpq and sqlx 0.8 did for every connection.
//! Remove this module once a sqlx release sets it again.

use std::sync::Once;

/// Give `TCP_NODELAY` to every TCP socket of this process connected to
/// `port`: how many did not have it yet.
#[cfg(target_os = "linux")]
pub fn set_on_sockets_to(port: u16) -> std::io::Result<usize> {
    use rustix::net::{SocketType, getpeername, sockopt};
    use rustix::process::{PidfdFlags, PidfdGetfdFlags, getpid, pidfd_getfd, pidfd_open};

    let this_process = pidfd_open(getpid(), PidfdFlags::empty())?;
    let mut changed = 0;
    for entry in std::fs::read_dir("/proc/self/fd")? {
        let entry = entry?;
        // A descriptor closed since the listing reads as gone: skip it.
        let Ok(target) = std::fs::read_link(entry.path()) else {
            continue;
        };
        let Some(fd) = target
            .to_str()
            .filter(|t| t.starts_with("socket:"))
            .and(entry.file_name().to_str().and_then(|n| n.parse().ok()))
        else {
            continue;
        };
        // The number may have been closed and reused since it was listed:
        // what is set is checked on the duplicate itself.
        let Ok(socket) = pidfd_getfd(&this_process, fd, PidfdGetfdFlags::empty()) else {
            continue;
        };
        let to_port = sockopt::socket_type(&socket).is_ok_and(|t| t == SocketType::STREAM)
            && getpeername(&socket)
                .ok()
                .flatten()
                .and_then(|peer| std::net::SocketAddr::try_from(peer).ok())
                .is_some_and(|peer| peer.port() == port);
        if to_port && !sockopt::tcp_nodelay(&socket)? {
            sockopt::set_tcp_nodelay(&socket, true)?;
            changed += 1;
        }
    }
    Ok(changed)
}

#[cfg(not(target_os = "linux"))]
pub fn set_on_sockets_to(_port: u16) -> std::io::Result<usize> {
    Ok(0)
}

/// [`set_on_sockets_to`], saying once (not on every connection) when it
/// cannot: statements then still work, more slowly.
pub fn after_connect(port: u16) {
    static WARNED: Once = Once::new();
    if let Err(error) = set_on_sockets_to(port) {
        WARNED.call_once(|| {
            tracing::warn!(
                %error,
                "cannot set TCP_NODELAY on the database connections (a container's seccomp \
                 profile may refuse pidfd_getfd): statements longer than a TCP segment may \
                 wait up to 40 ms each"
            );
        });
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn a_socket_connected_to_the_port_is_given_nodelay_and_others_are_left() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a listener");
        let other = std::net::TcpListener::bind("127.0.0.1:0").expect("another listener");
        let port = listener.local_addr().expect("its address").port();
        let to_port = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connects");
        let elsewhere = std::net::TcpStream::connect(other.local_addr().expect("its address"))
            .expect("connects");
        assert!(!to_port.nodelay().expect("readable"), "off by default");

        assert!(set_on_sockets_to(port).expect("the scan runs") >= 1);

        assert!(to_port.nodelay().expect("readable"));
        assert!(
            !elsewhere.nodelay().expect("readable"),
            "another port is left"
        );
        assert_eq!(set_on_sockets_to(port).expect("the scan runs"), 0, "once");
    }
}
