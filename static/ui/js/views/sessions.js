// The Account screen's Sessions card: the devices signed in to the account, signing one out, every
// other one, or every one including this device.

import { api } from "../api.js";
import { showCardMessage } from "../forms.js";
import { describeError } from "../messages.js";
import { confirmAction, flash, formatDate, go, signOutLocally } from "../shell.js";

const element = (id) => document.getElementById(id);

/** A readable name for a session's browser and system, from its User-Agent. */
export function describeDevice(userAgent) {
  const agent = String(userAgent || "");
  if (!agent) return "Unknown device";
  const browsers = [
    [/Edg\//, "Edge"],
    [/OPR\//, "Opera"],
    [/Firefox\//, "Firefox"],
    [/HeadlessChrome\//, "Headless Chrome"],
    [/Chrome\//, "Chrome"],
    [/Safari\//, "Safari"],
    [/^curl\//, "curl"],
    [/^python-requests\//, "Python requests"],
  ];
  const systems = [
    [/Android/, "Android"],
    [/iPhone|iPad|iPod/, "iOS"],
    [/Windows/, "Windows"],
    [/Mac OS X|Macintosh/, "macOS"],
    [/CrOS/, "ChromeOS"],
    [/Linux/, "Linux"],
  ];
  const browser = browsers.find(([pattern]) => pattern.test(agent))?.[1] ?? agent.split(/[/ ]/)[0];
  const system = systems.find(([pattern]) => pattern.test(agent))?.[1];
  return system ? `${browser} on ${system}` : browser;
}

function sessionItem(session) {
  const item = element("session-template").content.firstElementChild.cloneNode(true);
  const device = describeDevice(session.user_agent);
  item.querySelector(".session-name").textContent = device;
  item.querySelector(".tag-current").hidden = !session.current;
  const details = [`Signed in ${formatDate(session.created_at)}`, `last active ${formatDate(session.last_used_at)}`];
  if (session.ip) details.push(`from ${session.ip}`);
  item.querySelector(".session-details").textContent = details.join(" · ");
  const button = item.querySelector(".session-sign-out");
  // The visible words start the accessible name; the hidden rest says which device.
  item.querySelector(".session-sign-out-name").textContent = session.current
    ? " (the one you are using)"
    : ` (${device})`;
  button.addEventListener("click", () => signOutSession(session, device, button));
  return item;
}

/** Show the list from the API (an error says so in the card). */
export async function loadSessions() {
  element("sessions-error").textContent = "";
  const list = element("session-list");
  const others = element("sessions-sign-out-others");
  list.setAttribute("aria-busy", "true");
  if (!list.children.length) element("sessions-status").textContent = "Loading the list…";
  try {
    const { data } = await api("users/sessions");
    list.replaceChildren(...data.map(sessionItem));
    // With this device alone signed in there is no other device to sign out.
    others.disabled = !data.some((session) => !session.current);
    if (element("sessions-status").textContent === "Loading the list…") element("sessions-status").textContent = "";
  } catch (error) {
    if (error.name !== "SessionEndedError") {
      list.replaceChildren();
      showCardMessage("sessions", `The list could not be loaded. ${describeError(error).form || ""}`, { isError: true });
    }
  } finally {
    list.setAttribute("aria-busy", "false");
  }
}

function sessionsMessage(text) {
  showCardMessage("sessions", text, { focus: true });
}

function sessionsError(error) {
  if (error.name === "SessionEndedError") return;
  showCardMessage("sessions", describeError(error, "sessions").form || "", { isError: true });
}

async function signOutSession(session, device, button) {
  button.disabled = true;
  try {
    await api(`users/sessions/${session._id}`, { method: "DELETE" });
  } catch (error) {
    button.disabled = false;
    sessionsError(error);
    return;
  }
  if (session.current) {
    signOutLocally();
    flash("You signed out of this device.");
    go("#/login", { replace: true });
    return;
  }
  await loadSessions();
  sessionsMessage(`Signed out ${device}.`);
}

async function signOutOthers() {
  try {
    await api("users/sessions", { method: "DELETE" });
  } catch (error) {
    sessionsError(error);
    return;
  }
  await loadSessions();
  sessionsMessage("Every other device is signed out. This one stays signed in.");
}

async function signOutEverywhere() {
  const confirmed = await confirmAction({
    title: "Sign out everywhere?",
    message: "Every device signed in to your account is signed out, this one included. You will need to log in again.",
    confirmLabel: "Sign out everywhere",
  });
  if (!confirmed) return;
  try {
    await api("users/sessions?all=true", { method: "DELETE" });
  } catch (error) {
    sessionsError(error);
    return;
  }
  signOutLocally();
  flash("You are signed out everywhere, this device included.");
  go("#/login", { replace: true });
}

export function init() {
  element("sessions-reload").addEventListener("click", async () => {
    await loadSessions();
    sessionsMessage("The list is up to date.");
  });
  element("sessions-sign-out-others").addEventListener("click", signOutOthers);
  element("sessions-sign-out-everywhere").addEventListener("click", signOutEverywhere);
}

/** Called when the Account screen opens: no message, and no list until the latest one loads. */
export function enter() {
  showCardMessage("sessions", "");
  // Never offer the buttons of a list shown earlier: its sessions may have ended since.
  element("session-list").replaceChildren();
  return loadSessions();
}
