// Drives Coffre's /oauth/authorize pages in headless Chromium, as a customer with TOTP would:
// sign in, type the one-time code, allow the client, and land on the client's redirect URI.
//
// Run by crates/coffre/tests/binary/browser_authorize.rs. Inputs (environment):
//   AUTHORIZE_URL   the full /oauth/authorize URL, query included
//   USERNAME        PASSWORD        the customer's credentials
//   TOTP_SECRET     the TOTP secret in base32; the code is computed when the field is filled
//   REDIRECT_URI    the client's registered redirect URI (nothing listens there: intercepted)
//   SCREENSHOT_DIR  where totp.png, consent.png and callback.png (or failure.png) are written
//   CHROMIUM        the browser binary (default /usr/bin/chromium, Debian's chromium package)
// On success prints one JSON line {"callback_url": "..."} and exits 0; on failure prints the
// error, the page's URL and text to stderr, saves failure.png and exits 1.

import { createHmac } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const STEP_TIMEOUT_MS = 10_000;
const OVERALL_TIMEOUT_MS = 30_000;

function required(name) {
  const value = process.env[name];
  if (!value) {
    process.stderr.write(`authorize.mjs: the environment variable ${name} is required\n`);
    process.exit(2);
  }
  return value;
}

// RFC 4648 base32 (upper or lower case, padding and spaces ignored) to bytes.
function base32Decode(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const bytes = [];
  let bits = 0;
  let value = 0;
  for (const char of text.toUpperCase().replace(/[\s=]/g, '')) {
    const index = alphabet.indexOf(char);
    if (index < 0) throw new Error(`not base32: ${JSON.stringify(char)}`);
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      bytes.push((value >>> bits) & 0xff);
    }
  }
  return Buffer.from(bytes);
}

// RFC 6238 TOTP: HMAC-SHA1 over the 30-second step counter, 6 digits (RFC 4226 truncation).
function totp(secret, unixSeconds = Date.now() / 1000) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(unixSeconds / 30)));
  const mac = createHmac('sha1', secret).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 1_000_000).padStart(6, '0');
}

const authorizeUrl = required('AUTHORIZE_URL');
const username = required('USERNAME');
const password = required('PASSWORD');
const totpSecret = base32Decode(required('TOTP_SECRET'));
const redirectUri = required('REDIRECT_URI');
const screenshotDir = required('SCREENSHOT_DIR');
mkdirSync(screenshotDir, { recursive: true });

// The script stops by itself, whatever hangs.
const watchdog = setTimeout(() => {
  process.stderr.write(`authorize.mjs: gave up after ${OVERALL_TIMEOUT_MS} ms\n`);
  process.exit(1);
}, OVERALL_TIMEOUT_MS);

let browser;
let page;
try {
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox'],
    timeout: STEP_TIMEOUT_MS,
  });
  const context = await browser.newContext({ viewport: { width: 800, height: 700 } });
  context.setDefaultTimeout(STEP_TIMEOUT_MS);
  context.setDefaultNavigationTimeout(STEP_TIMEOUT_MS);
  page = await context.newPage();

  // Nothing listens on the redirect URI: answer for it, and remember where the browser went.
  let resolveCallback;
  const callback = new Promise((resolve) => {
    resolveCallback = resolve;
  });
  const callbackPrefix = new URL(redirectUri).href;
  await page.route(
    (url) => url.href === callbackPrefix || url.href.startsWith(`${callbackPrefix}?`),
    async (route) => {
      resolveCallback(route.request().url());
      await route.fulfill({
        status: 200,
        contentType: 'text/html; charset=utf-8',
        body: '<!doctype html><html lang="en"><title>Signed in</title><h1>signed in</h1></html>',
      });
    },
  );

  await page.goto(authorizeUrl);
  await page.getByLabel('Username or e-mail').fill(username);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();

  await page.getByRole('heading', { name: 'Enter your one-time code' }).waitFor();
  const codeField = page.getByLabel('One-time code');
  if ((await codeField.getAttribute('id')) !== 'totp_code') {
    throw new Error('the "One-time code" field is not #totp_code');
  }
  await codeField.fill(totp(totpSecret));
  await page.screenshot({ path: join(screenshotDir, 'totp.png'), fullPage: true });
  await page.getByRole('button', { name: 'Verify' }).click();

  const allow = page.getByRole('button', { name: 'Allow' });
  await allow.waitFor();
  await page.screenshot({ path: join(screenshotDir, 'consent.png'), fullPage: true });
  await allow.click();

  const callbackUrl = await Promise.race([
    callback,
    new Promise((_, reject) =>
      setTimeout(
        () => reject(new Error(`no request to ${redirectUri} within ${STEP_TIMEOUT_MS} ms`)),
        STEP_TIMEOUT_MS,
      ),
    ),
  ]);
  await page.waitForURL((url) => url.href.startsWith(callbackPrefix));
  await page.getByText('signed in').waitFor();
  await page.screenshot({ path: join(screenshotDir, 'callback.png'), fullPage: true });

  process.stdout.write(`${JSON.stringify({ callback_url: callbackUrl })}\n`);
  await browser.close();
  clearTimeout(watchdog);
  process.exit(0);
} catch (error) {
  process.stderr.write(`authorize.mjs: ${error?.stack || error}\n`);
  if (page) {
    process.stderr.write(`page URL: ${page.url()}\n`);
    try {
      const text = await page.locator('body').innerText({ timeout: 2_000 });
      process.stderr.write(`page text:\n${text}\n`);
    } catch (textError) {
      process.stderr.write(`page text unavailable: ${textError.message}\n`);
    }
    try {
      await page.screenshot({ path: join(screenshotDir, 'failure.png'), fullPage: true, timeout: 5_000 });
      process.stderr.write(`screenshot: ${join(screenshotDir, 'failure.png')}\n`);
    } catch (shotError) {
      process.stderr.write(`no failure screenshot: ${shotError.message}\n`);
    }
  }
  await browser?.close().catch(() => {});
  process.exit(1);
}
