// The journey's settings (from the environment), its users, books and browser arguments.

import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const BASE_URL = (process.env.BASE_URL || "").replace(/\/$/, "");
// clients/web/, the folder above this module's.
const HERE = fileURLToPath(new URL("..", import.meta.url));
export const SCREENSHOTS = process.env.SCREENSHOT_DIR || join(HERE, "screenshots", "latest");
export const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
export const PASSWORD = "Correct-Horse-9!";
export const NEW_PASSWORD = "Battery Staple 42?";
export const RESET_PASSWORD = "Reset-Lantern 77#";
// Where the test server writes its emails (no SMTP): tests/live/test_web_ui.py sets it.
export const MAIL_DIR = process.env.MAIL_DIR || "";
export const PHONE_AGENT =
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) " +
  "Version/17.4 Mobile/15E148 Safari/604.1";
export const TABLET_AGENT =
  "Mozilla/5.0 (Linux; Android 14; Pixel Tablet) AppleWebKit/537.36 (KHTML, like Gecko) " +
  "Chrome/124.0 Safari/537.36";

// Chromium as root, headless, on a machine with no network but the loopback.
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-dev-shm-usage",
];

export const SIZES = [
  { name: "desktop", viewport: { width: 1280, height: 800 }, isMobile: false, user: "Ada Lovelace", email: "ada@example.com" },
  { name: "phone", viewport: { width: 390, height: 844 }, isMobile: true, user: "Grace Hopper", email: "grace@example.com" },
];

export const SEED_BOOKS = [
  ["Sonnets from the Portuguese", "poetry", "Forty-four love sonnets.", [150, 40, 60]],
  ["Leaves of Grass", "poetry", "Whitman's poems, revised all his life.", [40, 110, 60]],
  ["The Federalist Papers", "politics", "Essays for the ratification of the Constitution.", [60, 60, 120]],
  ["Pride and Prejudice", "romance", "Elizabeth Bennet and Mr Darcy.", [170, 90, 120]],
  ["The Very Hungry Caterpillar", "picture book", "A caterpillar eats through a week.", [60, 150, 60]],
  ["A Brief History of Time", "science", "From the big bang to black holes.", [20, 30, 60]],
  ["The Hobbit", "fantasy", "There and back again.", [30, 90, 40]],
  ["Frankenstein", "horror", "The modern Prometheus.", [50, 50, 50]],
  ["The Thirty-Nine Steps", "thriller", "Richard Hannay on the run.", [140, 60, 20]],
  ["Odes of Keats", "poetry", "Odes to a nightingale, a Grecian urn and autumn.", [120, 80, 150]],
  ["On the Origin of Species", "science", "Natural selection.", [100, 80, 40]],
  ["Dracula", "horror", "Letters and diaries from Transylvania and Whitby.", [120, 20, 20]],
  ["Rebecca", "thriller", "Last night I dreamt I went to Manderley again.", [30, 70, 90]],
];

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export function log(message) {
  process.stdout.write(`${message}\n`);
}
