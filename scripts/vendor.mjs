// Copies third-party browser files into static/ and builds the icon sprite; copies axe-core
// into e2e/vendor/ for the accessibility tests (test tree only: never in the wheel).
// Run with `npm run vendor` after `npm install`; the outputs are committed so
// that the Python package needs no Node at install time.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const modules = join(root, "node_modules");
const vendor = join(root, "static", "vendor");
mkdirSync(vendor, { recursive: true });

// htmx: the version goes into the file name so a new release busts caches.
const htmxVersion = JSON.parse(readFileSync(join(modules, "htmx.org", "package.json"), "utf8")).version;
copyFileSync(join(modules, "htmx.org", "dist", "htmx.min.js"), join(vendor, `htmx-${htmxVersion}.min.js`));
copyFileSync(join(modules, "htmx.org", "LICENSE"), join(vendor, "htmx.LICENSE"));

// Icons: only the ones templates use (and a few the Python side may name for
// models), so the sprite stays a few KB instead of lucide's ~1.5 MB.
const ICONS = [
  // navigation and models
  "layout-dashboard", "database", "table", "users", "user", "package", "shopping-cart", "ticket",
  "message-square", "contact", "building-2", "shield", "settings", "file-text", "inbox", "clock",
  "life-buoy",
  // actions
  "search", "log-out", "log-in", "sun", "moon", "menu", "x", "plus", "pencil", "trash-2", "history",
  "filter", "download", "external-link", "eye", "lock", "bookmark", "keyboard",
  // chevrons and arrows
  "chevron-right", "chevron-left", "chevron-down", "chevrons-up-down", "arrow-up", "arrow-down",
  // status
  "check", "circle-check", "circle-alert", "triangle-alert", "info", "loader-circle",
  // dashboard panels
  "activity", "refresh-cw", "trending-up", "trending-down", "minus",
];

const lucide = join(modules, "lucide-static");
const lucideVersion = JSON.parse(readFileSync(join(lucide, "package.json"), "utf8")).version;
const symbols = ICONS.map((name) => {
  const svg = readFileSync(join(lucide, "icons", `${name}.svg`), "utf8");
  const inner = svg.match(/<svg[^>]*>([\s\S]*?)<\/svg>/);
  if (!inner) throw new Error(`lucide-static: cannot parse ${name}.svg`);
  const body = inner[1].split("\n").map((line) => line.trim()).filter(Boolean).join("");
  return (
    `<symbol id="${name}" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" ` +
    `stroke-linecap="round" stroke-linejoin="round">${body}</symbol>`
  );
});
writeFileSync(
  join(root, "static", "icons.svg"),
  `<!-- lucide-static v${lucideVersion}, ISC licence: see vendor/lucide.LICENSE. Built by scripts/vendor.mjs. -->\n` +
    `<svg xmlns="http://www.w3.org/2000/svg">\n${symbols.join("\n")}\n</svg>\n`,
);
copyFileSync(join(lucide, "LICENSE"), join(vendor, "lucide.LICENSE"));

// axe-core: read by e2e/test_accessibility_browser.py and injected into the pages it checks.
// The version is in the file's own banner and in e2e/vendor/README.md.
const axe = join(modules, "axe-core");
const axeVersion = JSON.parse(readFileSync(join(axe, "package.json"), "utf8")).version;
const e2eVendor = join(root, "e2e", "vendor");
mkdirSync(e2eVendor, { recursive: true });
copyFileSync(join(axe, "axe.min.js"), join(e2eVendor, "axe.min.js"));
copyFileSync(join(axe, "LICENSE"), join(e2eVendor, "axe.LICENSE"));
writeFileSync(
  join(e2eVendor, "README.md"),
  `# Vendored for the browser tests\n\n` +
    `- \`axe.min.js\`: [axe-core](https://github.com/dequelabs/axe-core) ${axeVersion}, ` +
    `Mozilla Public License 2.0 (\`axe.LICENSE\`), unmodified. ` +
    `\`e2e/test_accessibility_browser.py\` injects it into every screen it checks.\n\n` +
    `Test tree only: the wheel packages \`hyper_admin/\`, \`templates/\` and \`static/\`, never \`e2e/\`.\n` +
    `Refresh: change the pinned \`axe-core\` version in \`package.json\`, then \`npm install\` and ` +
    `\`npm run vendor\` (written by \`scripts/vendor.mjs\`; do not edit by hand).\n`,
);

console.log(
  `vendored htmx ${htmxVersion}, ${ICONS.length} lucide ${lucideVersion} icons, axe-core ${axeVersion} (e2e/vendor)`,
);
