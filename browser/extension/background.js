// background.js — the Stint WebExtension: which tab is in front, told to stint-browser-host.
//
// One source for Firefox (background script) and Chromium (service worker). It listens to tab
// and window events only, reads the active tab's url and title through the `tabs` permission,
// and sends one small message per change (spec/AGENT.md, "Browser messages"):
//   {"type":"focus","time":MS,"window":ID,"tab":ID,"url":U,"title":T,"private":B}
//   {"type":"blur","time":MS}        no window of this browser has the focus
// It injects nothing into pages, keeps nothing and needs no network: the host hands each
// message to stintd, whose journal is the only queue. The host answers each message with a
// status ({"type":"status","stintd":"connected"|"absent","dropped":N,...}), kept in memory for
// the extension's console only.
"use strict";

const HOST = "org.stint.browser_host";
const api = typeof browser !== "undefined" ? browser : chrome;

let port = null;
let lastSent = "";
let lastStatus = null;

function connect() {
  if (port) return port;
  try {
    port = api.runtime.connectNative(HOST);
  } catch (err) {
    console.warn("stint: cannot start the native host:", err);
    port = null;
    return null;
  }
  port.onMessage.addListener((msg) => {
    lastStatus = msg;
    if (msg && msg.stintd === "absent") console.info("stint: stintd is not running; dropped", msg.dropped);
  });
  port.onDisconnect.addListener(() => {
    const err = api.runtime.lastError;
    if (err) console.warn("stint: native host disconnected:", err.message);
    port = null;
    lastSent = "";
  });
  const isFirefox = typeof browser !== "undefined" && api.runtime.getBrowserInfo;
  port.postMessage({
    type: "hello",
    browser: isFirefox ? "firefox" : "chromium",
    version: api.runtime.getManifest().version,
  });
  return port;
}

function send(msg) {
  // the same focus twice (an update that changed nothing we report) is sent once
  const key = JSON.stringify(Object.assign({}, msg, { time: 0 }));
  if (key === lastSent) return;
  const p = connect();
  if (!p) return;
  try {
    p.postMessage(msg);
    lastSent = key;
  } catch (err) {
    port = null;
    lastSent = "";
  }
}

async function report() {
  let win;
  try {
    win = await api.windows.getLastFocused({ populate: false });
  } catch (err) {
    return;
  }
  if (!win || !win.focused) {
    send({ type: "blur", time: Date.now() });
    return;
  }
  const tabs = await api.tabs.query({ active: true, windowId: win.id });
  const tab = tabs && tabs[0];
  if (!tab) return;
  const priv = Boolean(win.incognito || tab.incognito);
  send({
    type: "focus",
    time: Date.now(),
    window: win.id,
    tab: tab.id,
    // a private window is reported as private only: no url, no title
    url: priv ? "" : tab.url || "",
    title: priv ? "" : tab.title || "",
    private: priv,
  });
}

api.tabs.onActivated.addListener(report);
api.tabs.onUpdated.addListener((tabId, change, tab) => {
  if (tab.active && (change.url !== undefined || change.title !== undefined)) report();
});
api.windows.onFocusChanged.addListener(report);
api.windows.onRemoved.addListener(report);
api.runtime.onStartup.addListener(report);
api.runtime.onInstalled.addListener(report);
report();
