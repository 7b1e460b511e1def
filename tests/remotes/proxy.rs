//! A small TCP proxy that slows uploads down to a set rate, so a test can stop a server or a
//! client while an upload is surely in the middle.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::time::{Duration, Instant};

pub struct Throttle {
    pub port: u16,
}

impl Throttle {
    /// Forwards 127.0.0.1:<port> to `target`, client→server at most `bytes_per_sec`.
    pub fn start(target: u16, bytes_per_sec: u64) -> Throttle {
        Self::forward(target, Some(bytes_per_sec), None)
    }

    /// Forwards 127.0.0.1:<port> to `target`, server→client at most `bytes_per_sec` per
    /// connection: downloads slowed, so a client can be stopped part way through one.
    pub fn downloads(target: u16, bytes_per_sec: u64) -> Throttle {
        Self::forward(target, None, Some(bytes_per_sec))
    }

    fn forward(target: u16, up: Option<u64>, down: Option<u64>) -> Throttle {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let port = listener.local_addr().expect("addr").port();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let Ok(server) = TcpStream::connect(("127.0.0.1", target)) else {
                    // A dead server: the client sees the connection close at once.
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                };
                let (c2, s2) = match (client.try_clone(), server.try_clone()) {
                    (Ok(c), Ok(s)) => (c, s),
                    _ => continue,
                };
                std::thread::spawn(move || pipe(client, server, up));
                std::thread::spawn(move || pipe(s2, c2, down));
            }
        });
        Throttle { port }
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

fn pipe(mut from: TcpStream, mut to: TcpStream, rate: Option<u64>) {
    let mut buf = vec![0u8; 16 << 10];
    let start = Instant::now();
    let mut sent = 0u64;
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
        sent += n as u64;
        if let Some(r) = rate {
            let due = Duration::from_secs_f64(sent as f64 / r as f64);
            if let Some(wait) = due.checked_sub(start.elapsed()) {
                std::thread::sleep(wait);
            }
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}
