//! Source files of a run and positions in them: every span a diagnostic carries points here.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

/// Index of a file in the [`SourceMap`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId(pub u32);

/// A byte range in one source file.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Span {
    pub file: FileId,
    pub range: Range<usize>,
}

impl Span {
    pub fn new(file: FileId, range: Range<usize>) -> Span {
        Span { file, range }
    }
}

/// A 1-based line and column (column counted in characters).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pos {
    pub line: usize,
    pub col: usize,
}

#[derive(Debug)]
struct SourceFile {
    path: PathBuf,
    text: Arc<str>,
    line_starts: Vec<usize>,
}

/// All source files read during a run, shared between the loader and the diagnostic renderer.
#[derive(Clone, Debug, Default)]
pub struct SourceMap {
    files: Arc<RwLock<Vec<SourceFile>>>,
}

impl SourceMap {
    pub fn new() -> SourceMap {
        SourceMap::default()
    }

    pub fn add(&self, path: impl Into<PathBuf>, text: impl Into<Arc<str>>) -> FileId {
        let text: Arc<str> = text.into();
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        let mut files = self.files.write().unwrap_or_else(|e| e.into_inner());
        files.push(SourceFile { path: path.into(), text, line_starts });
        FileId((files.len() - 1) as u32)
    }

    pub fn path(&self, id: FileId) -> PathBuf {
        let files = self.files.read().unwrap_or_else(|e| e.into_inner());
        files.get(id.0 as usize).map(|f| f.path.clone()).unwrap_or_default()
    }

    pub fn text(&self, id: FileId) -> Arc<str> {
        let files = self.files.read().unwrap_or_else(|e| e.into_inner());
        files.get(id.0 as usize).map(|f| f.text.clone()).unwrap_or_else(|| Arc::from(""))
    }

    /// The source text a span covers (empty when it is out of range).
    pub fn slice(&self, span: &Span) -> String {
        let text = self.text(span.file);
        text.get(span.range.clone()).unwrap_or("").to_string()
    }

    pub fn pos(&self, id: FileId, offset: usize) -> Pos {
        let files = self.files.read().unwrap_or_else(|e| e.into_inner());
        let Some(file) = files.get(id.0 as usize) else {
            return Pos { line: 1, col: 1 };
        };
        let offset = offset.min(file.text.len());
        let line_idx = match file.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = file.line_starts[line_idx];
        let col = file.text.get(start..offset).map(|s| s.chars().count()).unwrap_or(0) + 1;
        Pos { line: line_idx + 1, col }
    }

    /// The full text of a 1-based line, without its newline.
    pub fn line(&self, id: FileId, line: usize) -> String {
        let text = self.text(id);
        text.lines().nth(line.saturating_sub(1)).unwrap_or("").trim_end_matches('\r').to_string()
    }

    /// `path:line:col` for the start of a span, with the path shown relative to `base` when it
    /// lies below it.
    pub fn location(&self, span: &Span, base: Option<&Path>) -> String {
        let pos = self.pos(span.file, span.range.start);
        let path = self.path(span.file);
        let shown = base.and_then(|b| path.strip_prefix(b).ok()).unwrap_or(&path);
        format!("{}:{}:{}", shown.display(), pos.line, pos.col)
    }
}
