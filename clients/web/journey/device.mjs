// The API as another device of the same user, two-factor codes, and the emails the server writes.

import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

import { coverPng } from "../png.mjs";
import { eventually } from "./checks.mjs";
import { BASE_URL, MAIL_DIR } from "./config.mjs";

// The API, as another device of the same user ------------------------------------------------

export class Device {
  constructor(userAgent) {
    this.userAgent = userAgent;
    this.token = null;
    this.refreshToken = null;
  }

  async raw(method, path, { json, form, headers = {}, token = this.token } = {}) {
    const init = { method, headers: { "User-Agent": this.userAgent, ...headers } };
    if (token) init.headers.Authorization = `Bearer ${token}`;
    if (json !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(json);
    } else if (form !== undefined) {
      init.body = form;
    }
    const response = await fetch(`${BASE_URL}/${path}`, init);
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null, headers: response.headers };
  }

  async logIn(email, password) {
    const answer = await this.raw("POST", "users/login", { json: { email, password }, token: null });
    assert.equal(answer.status, 200, `API login: ${JSON.stringify(answer.body)}`);
    this.token = answer.body.data.token;
    this.refreshToken = answer.body.data.refresh_token;
    return this;
  }

  /** Call with the access token, refreshing it once if it expired (the test server's are short). */
  async call(method, path, options = {}) {
    let answer = await this.raw(method, path, options);
    if (answer.status === 401 && this.refreshToken) {
      const pair = await this.raw("POST", "users/token/refresh", { json: { refresh_token: this.refreshToken }, token: null });
      if (pair.status === 200) {
        this.token = pair.body.data.token;
        this.refreshToken = pair.body.data.refresh_token;
        answer = await this.raw(method, path, options);
      }
    }
    return answer;
  }

  async addBook(title, category, description, colour) {
    const form = new FormData();
    form.append("title", title);
    form.append("category", category);
    form.append("description", description);
    form.append("cover_image", new Blob([coverPng(200, 300, colour)], { type: "image/png" }), "cover.png");
    const answer = await this.call("POST", "books/", { form });
    assert.equal(answer.status, 201, `API add book: ${JSON.stringify(answer.body)}`);
    return answer.body.data;
  }
}

// Two-factor codes and emails ------------------------------------------------------------------

/** The RFC 6238 code (HMAC-SHA1, 30 s, 6 digits) of a base32 secret, `offset` steps from now. */
export function totp(secret, offset = 0) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const char of secret.replace(/[\s=]/g, "").toUpperCase()) {
    bits += alphabet.indexOf(char).toString(2).padStart(5, "0");
  }
  const key = Buffer.from(bits.match(/.{8}/g).map((byte) => Number.parseInt(byte, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 1000 / 30) + offset));
  const digest = createHmac("sha1", key).update(counter).digest();
  const start = digest[digest.length - 1] & 0x0f;
  const number = digest.readUInt32BE(start) & 0x7fffffff;
  return String(number % 1_000_000).padStart(6, "0");
}

/** The reset link of the newest email to `email` in MAIL_DIR (waits for the background job). */
export async function resetLink(email, after) {
  let link = null;
  await eventually(
    () => {
      const found = readdirSync(MAIL_DIR)
        .filter((name) => name.endsWith(".eml"))
        .map((name) => readFileSync(join(MAIL_DIR, name), "utf8").replace(/=\r?\n/g, "").replace(/=3D/g, "="))
        .filter((text) => text.includes(`To: ${email}`) && text.includes("#reset?token="))
        .map((text) => /(\S+#reset\?token=\S+)/.exec(text)[1])
        .filter((candidate) => !after.includes(candidate));
      link = found.at(-1) || null;
      return Boolean(link);
    },
    () => `a reset email to ${email} should arrive in ${MAIL_DIR}`,
  );
  return link;
}
