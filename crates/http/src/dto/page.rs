//! Offset-paginated lists and their `Link` header.

use axum::http::{HeaderValue, Uri};
use coffre_app::Page;
use serde::Serialize;
use utoipa::ToSchema;

/// One page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct PageDto<T> {
    /// The rows of this page.
    pub items: Vec<T>,
    /// The 1-based page number.
    pub page: u32,
    /// The page size.
    pub limit: u32,
    /// How many rows match in all.
    pub total: u64,
}

impl<T> PageDto<T> {
    /// Converts a page of domain values.
    pub fn from_page<D>(page: Page<D>, convert: impl Fn(D) -> T) -> Self {
        PageDto {
            page: page.request.page(),
            limit: page.request.limit(),
            total: page.total,
            items: page.items.into_iter().map(convert).collect(),
        }
    }
}

/// The RFC 8288 `Link` header of an offset list: `first`, `prev`, `next` and `last`, as
/// references relative to the request (same path and filters, another `page`).
pub fn link_header<D>(uri: &Uri, page: &Page<D>) -> Option<HeaderValue> {
    let current = page.request.page();
    let limit = u64::from(page.request.limit());
    // Pages beyond MAX_PAGE are refused, so no link may point there.
    let last = u32::try_from(page.total.div_ceil(limit).max(1))
        .unwrap_or(u32::MAX)
        .min(coffre_app::pagination::MAX_PAGE);
    let mut links = vec![(1, "first")];
    if current > 1 {
        links.push((current - 1, "prev"));
    }
    if page.has_next() && current < last {
        links.push((current + 1, "next"));
    }
    links.push((last, "last"));
    let text = links
        .into_iter()
        .map(|(number, rel)| format!("<{}>; rel=\"{rel}\"", with_page(uri, number)))
        .collect::<Vec<_>>()
        .join(", ");
    HeaderValue::from_str(&text).ok()
}

fn with_page(uri: &Uri, page: u32) -> String {
    let mut query: Vec<(String, String)> =
        form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
            .filter(|(key, _)| key != "page")
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
    query.push(("page".to_owned(), page.to_string()));
    let encoded = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(query)
        .finish();
    format!("{}?{encoded}", uri.path())
}

#[cfg(test)]
mod tests {
    use super::*;
    use coffre_app::PageRequest;

    #[test]
    fn links_keep_filters_and_point_to_neighbouring_pages() -> Result<(), coffre_app::AppError> {
        let page = Page {
            items: vec![(); 20],
            total: 57,
            request: PageRequest::new(Some(2), Some(20))?,
        };
        let uri = Uri::from_static("/v1/accounts?type=COURANT&page=2&limit=20");
        let header =
            link_header(&uri, &page).map(|h| h.to_str().map(str::to_owned).unwrap_or_default());
        assert_eq!(
            header.as_deref(),
            Some(
                "</v1/accounts?type=COURANT&limit=20&page=1>; rel=\"first\", \
                 </v1/accounts?type=COURANT&limit=20&page=1>; rel=\"prev\", \
                 </v1/accounts?type=COURANT&limit=20&page=3>; rel=\"next\", \
                 </v1/accounts?type=COURANT&limit=20&page=3>; rel=\"last\""
            )
        );
        Ok(())
    }
}
