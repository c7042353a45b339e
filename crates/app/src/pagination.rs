//! Offset pagination, bounded on every side.

/// The largest page a client may ask for.
pub const MAX_LIMIT: u32 = 100;
/// The page size when the client does not say.
pub const DEFAULT_LIMIT: u32 = 20;
/// The deepest page offered: beyond it, filters are the right tool, and a bound keeps
/// `OFFSET` scans cheap.
pub const MAX_PAGE: u32 = 10_000;

/// A validated page request: `page` is 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    page: u32,
    limit: u32,
}

impl PageRequest {
    /// Validates `page` (1..=`MAX_PAGE`) and `limit` (1..=`MAX_LIMIT`).
    pub fn new(page: Option<u32>, limit: Option<u32>) -> Result<Self, crate::AppError> {
        let page = page.unwrap_or(1);
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        let mut errors = Vec::new();
        if !(1..=MAX_PAGE).contains(&page) {
            errors.push(crate::FieldError::new(
                "page",
                format!("must be between 1 and {MAX_PAGE}"),
            ));
        }
        if !(1..=MAX_LIMIT).contains(&limit) {
            errors.push(crate::FieldError::new(
                "limit",
                format!("must be between 1 and {MAX_LIMIT}"),
            ));
        }
        if !errors.is_empty() {
            return Err(crate::AppError::Validation(errors));
        }
        Ok(PageRequest { page, limit })
    }

    /// The 1-based page number.
    pub fn page(&self) -> u32 {
        self.page
    }

    /// The page size.
    pub fn limit(&self) -> u32 {
        self.limit
    }

    /// How many rows to skip.
    pub fn offset(&self) -> u64 {
        u64::from(self.page - 1) * u64::from(self.limit)
    }
}

/// One page of results and the total number of matches, read from one consistent snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// The rows of this page.
    pub items: Vec<T>,
    /// How many rows match in all.
    pub total: u64,
    /// The request that produced this page.
    pub request: PageRequest,
}

impl<T> Page<T> {
    /// True when a further page has rows.
    pub fn has_next(&self) -> bool {
        self.request.offset() + (self.items.len() as u64) < self.total
    }
}
