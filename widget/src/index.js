// Kefu's website chat widget. A shop pastes one tag into its pages:
//
//   <script src="https://kefu.example.com/webhooks/widget/kefu-widget.js"
//           data-title="Example Shop" data-primary-color="#0b5cad" defer></script>
//
// Data attributes (all optional): data-server (Kefu's address; default: where the script came
// from), data-language ("auto": the browser's), data-title, data-primary-color,
// data-primary-text-color, data-customer-bubble-color, data-position ("right" | "left"),
// data-mode ("launcher" | "page"), data-target (CSS selector of the element to mount into),
// data-keep-hours (how long the conversation is kept in this browser), data-customer-token (a
// signed token from the shop's site for a logged-in customer). `KefuWidget.identify(token)`,
// `.open()`, `.close()` and `.setLanguage(code)` are there for the page's own scripts.

import { browserLanguage } from "./i18n.js";
import { ChatWidget } from "./widget.js";

const COLOUR = /^#(?:[0-9a-f]{3}|[0-9a-f]{4}|[0-9a-f]{6}|[0-9a-f]{8})$/i;
const COLOUR_ATTRIBUTES = {
  primaryColor: "--kefu-primary",
  primaryTextColor: "--kefu-on-primary",
  customerBubbleColor: "--kefu-customer-bubble",
};

let widget = null;

function scriptOrigin(script) {
  try {
    return new URL(script.src, document.baseURI).origin;
  } catch {
    return window.location.origin;
  }
}

function readConfig(script) {
  const data = script ? script.dataset : {};
  const server = (data.server || (script && script.src ? scriptOrigin(script) : window.location.origin)).replace(/\/+$/, "");
  const colours = {};
  for (const [attribute, property] of Object.entries(COLOUR_ATTRIBUTES)) {
    // Only plain #rgb colours: the value goes into a style property, never into CSS text.
    if (data[attribute] && COLOUR.test(data[attribute].trim())) colours[property] = data[attribute].trim();
  }
  const keepHours = Number.parseFloat(data.keepHours);
  return {
    server,
    socketPath: "/socket.io",
    stylesheet: `${server}/webhooks/widget/kefu-widget.css`,
    language: data.language && data.language !== "auto" ? data.language : null,
    browserLanguage: browserLanguage(navigator.languages || [navigator.language]),
    title: data.title || "",
    colours,
    position: data.position === "left" ? "left" : "right",
    mode: data.mode === "page" ? "page" : "launcher",
    target: data.target || "",
    keepHours: Number.isFinite(keepHours) && keepHours > 0 ? keepHours : 24,
    maxChars: 2000,
    customerToken: data.customerToken || "",
  };
}

function mount(config) {
  const host = document.createElement("div");
  host.className = "kefu-widget-host";
  const target = (config.target && document.querySelector(config.target)) || document.body;
  target.append(host);
  widget = new ChatWidget(config, host);
}

const script = document.currentScript;
const config = readConfig(script);
if (document.body) mount(config);
else document.addEventListener("DOMContentLoaded", () => mount(config), { once: true });

export function open() {
  if (widget) widget.setOpen(true);
}

export function close() {
  if (widget) widget.setOpen(false);
}

export function identify(token) {
  if (widget) widget.identify(token);
  else config.customerToken = token;
}

export function setLanguage(code) {
  if (widget) widget.setLanguage(code);
}
