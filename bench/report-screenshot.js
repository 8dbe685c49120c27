'use strict';

// Writes bench/report.png: the HTML report of the realistic fixture model (three snapshots of a
// server leaking request contexts, a 2000-sample timeline with a leak trend), as headless
// Chromium draws it at 1280×2400. The picture in the README comes from here.
//
//   node bench/report-screenshot.js [out.png]     (or LEAKGUARD_SCREENSHOT=1 node --test __test__/report.test.js)

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { renderReport } = require('../lib/report');
const { realisticModel } = require('../__test__/fixtures/report-model');
const { screenshot, findChromium } = require('../__test__/chromium');

/**
 * Renders the realistic model and screenshots it.
 * @param {{ pngFile?: string, htmlFile?: string, width?: number, height?: number }} [o]
 *   htmlFile: where the HTML goes (default: a temp file, removed after)
 * @returns {Promise<string>} the PNG's path
 */
async function writeScreenshot({ pngFile = path.join(__dirname, 'report.png'), htmlFile, width = 1280, height = 2400 } = {}) {
  const tmp = htmlFile ? null : fs.mkdtempSync(path.join(os.tmpdir(), 'lg-shot-'));
  const html = htmlFile || path.join(tmp, 'report.html');
  try {
    fs.writeFileSync(html, renderReport(realisticModel()));
    return await screenshot(html, pngFile, { width, height });
  } finally {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  }
}

if (require.main === module) {
  if (!findChromium()) {
    console.error('Chromium not found: apt-get install -y chromium, or set LEAKGUARD_CHROMIUM');
    process.exit(1);
  }
  writeScreenshot({ pngFile: process.argv[2] ? path.resolve(process.argv[2]) : undefined }).then(
    (png) => console.log(`${png} (${fs.statSync(png).size} bytes)`),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}

module.exports = { writeScreenshot };
