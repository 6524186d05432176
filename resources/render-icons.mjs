// Renders every resources/icons/*.svg to PNG at 16, 32 and 64 px (name.png, name@2x.png,
// name@4x.png) with Debian's chromium, for Qt installations without the SVG plugin.
// Run after changing an icon: node resources/render-icons.mjs
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, '../tests/browser/package.json'));
const { chromium } = require('playwright-core');

const dir = join(here, 'icons');
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium' });
const page = await browser.newPage();
for (const file of readdirSync(dir).filter((f) => f.endsWith('.svg'))) {
    const svg = readFileSync(join(dir, file), 'utf8');
    const base = file.slice(0, -4);
    for (const [size, suffix] of [[16, ''], [32, '@2x'], [64, '@4x']]) {
        await page.setViewportSize({ width: size, height: size });
        await page.setContent(
            `<html><body style="margin:0;background:transparent">` +
            `<img src="data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}" ` +
            `width="${size}" height="${size}" style="display:block"></body></html>`);
        await page.screenshot({ path: join(dir, `${base}${suffix}.png`), omitBackground: true });
    }
}
await browser.close();
