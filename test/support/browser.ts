// Debian's Chromium driven by playwright-core (never a downloaded browser), with the flags that keep it
// quiet on a machine without internet.
import { chromium, Browser } from 'playwright-core';
import { chromiumPath } from './tools';

export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath, headless: true, args: CHROMIUM_ARGS });
}

/** Console noise of an offline code-server that says nothing about the extension. */
export function isOfflineNoise(text: string): boolean {
  return /ENOTFOUND|ERR_NAME_NOT_RESOLVED|open-vsx|vsda|marketplace|404 \(Not Found\)|Failed to load resource|ERR_INTERNET_DISCONNECTED|ERR_CONNECTION_REFUSED/.test(text);
}
