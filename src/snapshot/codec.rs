//! The snapshot's byte stream: little-endian numbers and length-prefixed runs, written and
//! read through a buffer that checksums every byte as it passes.
//!
//! The reader treats the file as hostile: every length is checked against the bytes left
//! before anything is allocated for it, so a corrupt or forged length fails as "truncated"
//! instead of asking for gigabytes; and it reads in chunks, so loading never holds the
//! whole file beside what is decoded from it.

use std::io::{Read, Write};

use xxhash_rust::xxh3::Xxh3;

/// Bytes read or written at a time.
const CHUNK: usize = 1 << 20;

/// Why a snapshot's bytes could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// Fewer bytes than the data says follow.
    #[error("truncated")]
    Truncated,
    /// Bytes that decode to something the engine never writes.
    #[error("corrupt: {0}")]
    Corrupt(&'static str),
    /// The file could not be read.
    #[error("cannot be read: {0}")]
    Io(#[from] std::io::Error),
}

/// Writes numbers and runs to `W`, checksumming them.
pub struct Writer<W: Write> {
    out: W,
    buf: Vec<u8>,
    hasher: Xxh3,
}

impl<W: Write> Writer<W> {
    /// A writer to `out`.
    pub fn new(out: W) -> Writer<W> {
        Writer {
            out,
            buf: Vec::with_capacity(CHUNK),
            hasher: Xxh3::new(),
        }
    }

    /// Appends raw bytes.
    pub fn bytes(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        if self.buf.len() + bytes.len() > CHUNK {
            self.flush()?;
        }
        if bytes.len() > CHUNK {
            self.hasher.update(bytes);
            return self.out.write_all(bytes);
        }
        self.buf.extend_from_slice(bytes);
        Ok(())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.hasher.update(&self.buf);
        self.out.write_all(&self.buf)?;
        self.buf.clear();
        Ok(())
    }

    /// Appends a `u32`.
    pub fn u32(&mut self, x: u32) -> std::io::Result<()> {
        self.bytes(&x.to_le_bytes())
    }

    /// Appends a `u64`.
    pub fn u64(&mut self, x: u64) -> std::io::Result<()> {
        self.bytes(&x.to_le_bytes())
    }

    /// Appends an `f32`, bit for bit: a decoded index must score exactly as the built one.
    pub fn f32(&mut self, x: f32) -> std::io::Result<()> {
        self.u32(x.to_bits())
    }

    /// Appends a count; counts past `u32` cannot come from a knowledge folder.
    pub fn len(&mut self, n: usize) -> std::io::Result<()> {
        let n = u32::try_from(n).map_err(|_| std::io::Error::other("too large to snapshot"))?;
        self.u32(n)
    }

    /// Appends a string.
    pub fn str(&mut self, s: &str) -> std::io::Result<()> {
        self.len(s.len())?;
        self.bytes(s.as_bytes())
    }

    /// Appends a run of `u32`s.
    pub fn u32s(&mut self, xs: &[u32]) -> std::io::Result<()> {
        self.len(xs.len())?;
        xs.iter().try_for_each(|&x| self.u32(x))
    }

    /// Appends an optional string.
    pub fn opt_str(&mut self, s: Option<&str>) -> std::io::Result<()> {
        match s {
            Some(s) => {
                self.u32(1)?;
                self.str(s)
            }
            None => self.u32(0),
        }
    }

    /// Writes what is buffered, then the checksum of everything written, unhashed; returns
    /// the stream.
    pub fn finish(mut self) -> std::io::Result<W> {
        self.flush()?;
        let sum = self.hasher.digest();
        self.out.write_all(&sum.to_le_bytes())?;
        Ok(self.out)
    }
}

/// Reads what a [`Writer`] wrote from `R`, `left` bytes of it before the checksum.
pub struct Reader<R: Read> {
    input: R,
    buf: Vec<u8>,
    pos: usize,
    /// Bytes of the checksummed part not yet pulled into `buf`.
    unread: u64,
    hasher: Xxh3,
}

impl<R: Read> Reader<R> {
    /// A reader of `input`, whose checksummed part is `len` bytes long.
    pub fn new(input: R, len: u64) -> Reader<R> {
        Reader {
            input,
            buf: Vec::new(),
            pos: 0,
            unread: len,
            hasher: Xxh3::new(),
        }
    }

    /// Bytes not yet decoded, before the checksum.
    fn left(&self) -> u64 {
        self.unread + (self.buf.len() - self.pos) as u64
    }

    /// Fills `out` from the stream.
    pub fn fill(&mut self, out: &mut [u8]) -> Result<(), DecodeError> {
        if out.len() as u64 > self.left() {
            return Err(DecodeError::Truncated);
        }
        let mut done = 0;
        while done < out.len() {
            if self.pos == self.buf.len() {
                self.refill()?;
            }
            let n = (out.len() - done).min(self.buf.len() - self.pos);
            out[done..done + n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
            self.pos += n;
            done += n;
        }
        Ok(())
    }

    fn refill(&mut self) -> Result<(), DecodeError> {
        let n = (CHUNK as u64).min(self.unread) as usize;
        if n == 0 {
            return Err(DecodeError::Truncated);
        }
        self.buf.resize(n, 0);
        self.input
            .read_exact(&mut self.buf)
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::UnexpectedEof => DecodeError::Truncated,
                _ => DecodeError::Io(e),
            })?;
        self.hasher.update(&self.buf);
        self.unread -= n as u64;
        self.pos = 0;
        Ok(())
    }

    /// Reads a `u32`.
    pub fn u32(&mut self) -> Result<u32, DecodeError> {
        let mut b = [0; 4];
        self.fill(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    /// Reads a `u64`.
    pub fn u64(&mut self) -> Result<u64, DecodeError> {
        let mut b = [0; 8];
        self.fill(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    /// Reads an `f32`, refusing what no index holds (NaN, infinities).
    pub fn f32(&mut self) -> Result<f32, DecodeError> {
        let x = f32::from_bits(self.u32()?);
        if x.is_finite() {
            Ok(x)
        } else {
            Err(DecodeError::Corrupt("a weight that is not a number"))
        }
    }

    /// Reads a count of items taking at least `min_size` bytes each, refusing one that
    /// the bytes left cannot hold: nothing is ever allocated for data that is not there.
    pub fn len(&mut self, min_size: u64) -> Result<usize, DecodeError> {
        let n = u64::from(self.u32()?);
        if n.saturating_mul(min_size.max(1)) > self.left() {
            return Err(DecodeError::Truncated);
        }
        Ok(n as usize)
    }

    /// Reads a string.
    pub fn string(&mut self) -> Result<String, DecodeError> {
        let n = self.len(1)?;
        let mut bytes = vec![0; n];
        self.fill(&mut bytes)?;
        String::from_utf8(bytes).map_err(|_| DecodeError::Corrupt("text that is not UTF-8"))
    }

    /// Reads a run of `u32`s.
    pub fn u32s(&mut self) -> Result<Vec<u32>, DecodeError> {
        let n = self.len(4)?;
        (0..n).map(|_| self.u32()).collect()
    }

    /// Reads an optional string.
    pub fn opt_string(&mut self) -> Result<Option<String>, DecodeError> {
        match self.u32()? {
            0 => Ok(None),
            1 => self.string().map(Some),
            _ => Err(DecodeError::Corrupt(
                "an option that is neither some nor none",
            )),
        }
    }

    /// Checks that everything was decoded and that the checksum that follows matches it.
    pub fn finish(mut self) -> Result<(), DecodeError> {
        if self.left() != 0 {
            return Err(DecodeError::Corrupt("bytes after the data"));
        }
        let mut sum = [0; 8];
        self.input
            .read_exact(&mut sum)
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::UnexpectedEof => DecodeError::Truncated,
                _ => DecodeError::Io(e),
            })?;
        if u64::from_le_bytes(sum) != self.hasher.digest() {
            return Err(DecodeError::Corrupt("checksum does not match"));
        }
        Ok(())
    }
}
