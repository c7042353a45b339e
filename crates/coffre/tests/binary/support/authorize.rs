//! Walking Coffre's server-rendered authorization pages the way a browser without JavaScript
//! does: read the page's form, send back its hidden fields plus what the user typed or clicked.

use std::sync::LazyLock;

use anyhow::Context as _;
use regex::Regex;
use reqwest::Url;

/// A cookie-keeping HTTP client that does not follow redirects, so that the final `303` to the
/// client's redirect URI can be read instead of followed.
pub(crate) struct Browser {
    http: reqwest::Client,
}

/// A page as the browser received it.
pub(crate) struct Page {
    /// Where the page came from, to resolve the form's relative `action`.
    pub(crate) url: Url,
    /// The HTTP status.
    pub(crate) status: u16,
    /// The `Location` header, on a redirect.
    pub(crate) location: Option<String>,
    /// The body.
    pub(crate) body: String,
}

impl Browser {
    /// A browser with an empty cookie jar.
    pub(crate) fn new() -> anyhow::Result<Browser> {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Browser { http })
    }

    /// Opens a URL.
    pub(crate) async fn get(&self, url: &str) -> anyhow::Result<Page> {
        let url = Url::parse(url)?;
        let response = self.http.get(url.clone()).send().await?;
        Page::read(url, response).await
    }

    /// Submits the page's form: its hidden fields as they are, plus `extra` (what the user typed,
    /// or the button they pressed).
    pub(crate) async fn submit(&self, page: &Page, extra: &[(&str, &str)]) -> anyhow::Result<Page> {
        let form = form_of(&page.body).with_context(|| format!("no form in {}", page.body))?;
        let action = page
            .url
            .join(&attribute(form, "action").unwrap_or_default())?;
        let mut fields = hidden_fields(form);
        fields.extend(
            extra
                .iter()
                .map(|(name, value)| ((*name).to_owned(), (*value).to_owned())),
        );
        let response = self.http.post(action.clone()).form(&fields).send().await?;
        Page::read(action, response).await
    }
}

impl Page {
    async fn read(url: Url, response: reqwest::Response) -> anyhow::Result<Page> {
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get(reqwest::header::LOCATION)
            .map(|value| value.to_str().map(str::to_owned))
            .transpose()?;
        let body = response.text().await?;
        Ok(Page {
            url,
            status,
            location,
            body,
        })
    }
}

/// The text from the first `<form ...>` tag to its `</form>` (the opening tag included, for its
/// `action`).
fn form_of(html: &str) -> Option<&str> {
    let start = html.find("<form")?;
    let end = html[start..]
        .find("</form>")
        .map_or(html.len(), |end| start + end);
    Some(&html[start..end])
}

/// The `name`/`value` pairs of the `<input type="hidden">` tags of a form, in page order.
pub(crate) fn hidden_fields(form: &str) -> Vec<(String, String)> {
    static INPUT: LazyLock<Option<Regex>> =
        LazyLock::new(|| Regex::new(r"(?is)<input\b[^>]*>").ok());
    let Some(input) = INPUT.as_ref() else {
        return Vec::new();
    };
    input
        .find_iter(form)
        .map(|tag| tag.as_str())
        .filter(|tag| {
            attribute(tag, "type").is_some_and(|kind| kind.eq_ignore_ascii_case("hidden"))
        })
        .filter_map(|tag| {
            Some((
                attribute(tag, "name")?,
                attribute(tag, "value").unwrap_or_default(),
            ))
        })
        .collect()
}

/// The unescaped value of a double-quoted attribute of the first tag in `tag`.
fn attribute(tag: &str, name: &str) -> Option<String> {
    static ATTRIBUTE: LazyLock<Option<Regex>> =
        LazyLock::new(|| Regex::new(r#"([A-Za-z_:][-A-Za-z0-9_:.]*)\s*=\s*"([^"]*)""#).ok());
    let opening = &tag[..tag.find('>').map_or(tag.len(), |end| end + 1)];
    ATTRIBUTE
        .as_ref()?
        .captures_iter(opening)
        .find(|captures| captures[1].eq_ignore_ascii_case(name))
        .map(|captures| unescape(&captures[2]))
}

/// Undoes HTML escaping of an attribute value; `&amp;` last, so that `&amp;lt;` stays `&lt;`.
fn unescape(value: &str) -> String {
    value
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}
