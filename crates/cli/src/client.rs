//! A minimal blocking HTTP/1.1 client with keep-alive, for the benchmarks and the crash test on
//! loopback. It speaks only what our own server answers (Content-Length or chunked bodies); a
//! full client crate would bring a second HTTP stack and TLS into the binary for nothing.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// One answer: status, headers (names lower-cased) and body.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> io::Result<serde_json::Value> {
        serde_json::from_slice(&self.body).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// One keep-alive connection to `addr`, opened on first use and reopened after an error. A
/// request that fails is never resent: the caller decides (a POST may have been applied).
pub struct Conn {
    addr: SocketAddr,
    stream: Option<BufReader<TcpStream>>,
    timeout: Duration,
}

fn invalid(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_string())
}

impl Conn {
    pub fn new(addr: SocketAddr) -> Conn {
        Conn {
            addr,
            stream: None,
            timeout: Duration::from_secs(30),
        }
    }

    pub fn with_timeout(mut self, timeout: Duration) -> Conn {
        self.timeout = timeout;
        self
    }

    pub fn get(&mut self, path: &str, bearer: Option<&str>) -> io::Result<Reply> {
        let auth = bearer.map(|t| format!("Bearer {t}"));
        let headers: Vec<(&str, &str)> = auth.iter().map(|a| ("Authorization", a.as_str())).collect();
        self.request("GET", path, &headers, b"")
    }

    /// A POST of a JSON body, with a bearer token and extra headers.
    pub fn post_json(
        &mut self,
        path: &str,
        bearer: Option<&str>,
        extra: &[(&str, &str)],
        body: &[u8],
    ) -> io::Result<Reply> {
        let auth = bearer.map(|t| format!("Bearer {t}"));
        let mut headers: Vec<(&str, &str)> = vec![("Content-Type", "application/json")];
        headers.extend(auth.iter().map(|a| ("Authorization", a.as_str())));
        headers.extend_from_slice(extra);
        self.request("POST", path, &headers, body)
    }

    pub fn request(&mut self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> io::Result<Reply> {
        let result = self.exchange(method, path, headers, body);
        if result.is_err() {
            self.stream = None;
        }
        result
    }

    fn exchange(&mut self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> io::Result<Reply> {
        if self.stream.is_none() {
            let s = TcpStream::connect_timeout(&self.addr, Duration::from_secs(5))?;
            s.set_nodelay(true)?;
            s.set_read_timeout(Some(self.timeout))?;
            self.stream = Some(BufReader::with_capacity(16 * 1024, s));
        }
        let Some(stream) = self.stream.as_mut() else {
            return Err(invalid("no connection"));
        };
        let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {}\r\n", self.addr);
        for (n, v) in headers {
            head.push_str(&format!("{n}: {v}\r\n"));
        }
        head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
        let mut out = head.into_bytes();
        out.extend_from_slice(body);
        stream.get_mut().write_all(&out)?;

        let mut line = String::new();
        if stream.read_line(&mut line)? == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "connection closed"));
        }
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| invalid("bad status line"))?;
        let mut headers = Vec::new();
        loop {
            line.clear();
            if stream.read_line(&mut line)? == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "connection closed in headers",
                ));
            }
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((n, v)) = l.split_once(':') {
                headers.push((n.trim().to_ascii_lowercase(), v.trim().to_string()));
            }
        }
        let find = |name: &str| headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
        let close = find("connection").is_some_and(|v| v.eq_ignore_ascii_case("close"));
        let mut body = Vec::new();
        if find("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
            loop {
                line.clear();
                stream.read_line(&mut line)?;
                let size = usize::from_str_radix(line.trim().split(';').next().unwrap_or(""), 16)
                    .map_err(|_| invalid("bad chunk size"))?;
                let start = body.len();
                body.resize(start + size, 0);
                stream.read_exact(&mut body[start..])?;
                line.clear();
                stream.read_line(&mut line)?;
                if size == 0 {
                    break;
                }
            }
        } else if let Some(len) = find("content-length") {
            let len: usize = len.parse().map_err(|_| invalid("bad content-length"))?;
            body.resize(len, 0);
            stream.read_exact(&mut body)?;
        } else if method != "HEAD" && status != 204 && status != 304 {
            stream.read_to_end(&mut body)?;
            self.stream = None;
        }
        if close {
            self.stream = None;
        }
        Ok(Reply { status, headers, body })
    }
}

/// Signs `username` in with `password` and returns the bearer token.
pub fn sign_in(addr: SocketAddr, username: &str, password: &str) -> io::Result<String> {
    let body = serde_json::json!({"username": username, "password": password}).to_string();
    let r = Conn::new(addr).post_json("/api/v1/auth/token", None, &[], body.as_bytes())?;
    if r.status != 201 {
        return Err(invalid(&format!("sign-in of {username}: {} {}", r.status, r.text())));
    }
    r.json()?["token"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| invalid("sign-in answer without a token"))
}

/// Signs `username` in to the pages as a browser does and returns the session cookie
/// (`gz_session=…`) to send with page requests.
pub fn page_session(addr: SocketAddr, username: &str, password: &str) -> io::Result<String> {
    // The sign-in form is double-submit: its cookie and its hidden field carry the same token.
    let token = "bench-sign-in";
    let body = format!("form_token={token}&next=%2F&username={username}&password={password}");
    let cookie = format!("gz_signin={token}");
    let r = Conn::new(addr).request(
        "POST",
        "/login",
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Cookie", &cookie),
        ],
        body.as_bytes(),
    )?;
    r.headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("set-cookie"))
        .find_map(|(_, v)| v.split(';').next().filter(|c| c.starts_with("gz_session=")))
        .map(str::to_string)
        .ok_or_else(|| invalid(&format!("page sign-in of {username}: {} {}", r.status, r.text())))
}
