/**
 * Debian's chromium for the e2e test, driven by puppeteer-core (which never downloads a
 * browser). `chromiumPath()` is undefined when it is not installed: the test then SKIPs
 * visibly. WebGL runs on SwiftShader in headless mode (no GPU here), which Chromium only
 * allows when asked.
 */
import * as fs from 'node:fs';
import puppeteer, { type Browser } from 'puppeteer-core';

export function chromiumPath(): string | undefined {
  const candidates = [process.env.G2D_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter((p): p is string => !!p);
  return candidates.find((p) => fs.existsSync(p));
}

export async function launchChromium(executablePath: string): Promise<Browser> {
  return puppeteer.launch({
    executablePath,
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--ignore-gpu-blocklist', '--window-size=1280,860'],
    defaultViewport: { width: 1280, height: 860 },
    timeout: 60000,
  });
}
