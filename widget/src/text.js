// A message's text as DOM nodes. Text is never parsed as HTML: every piece becomes a text node,
// web addresses become links only when they are http(s), and order numbers are isolated so
// they read the same inside right-to-left text.

const PIECES = /(https?:\/\/[^\s<>"'`]+)|(#[A-Z]{1,3}\d{4,})/g;
// Punctuation that ends a sentence rather than the address it follows.
const TRAILING = /[.,;:!?)\]}'"»。，；：！？）】」』]+$/;

/** The message split into {kind: "text" | "link" | "order", value} pieces, in order. */
export function pieces(text) {
  const result = [];
  let last = 0;
  for (const match of String(text).matchAll(PIECES)) {
    let value = match[0];
    let kind = match[1] ? "link" : "order";
    if (kind === "link") {
      const trailing = value.match(TRAILING);
      if (trailing) value = value.slice(0, value.length - trailing[0].length);
      if (!isWebAddress(value)) kind = "text";
    }
    if (match.index > last) result.push({ kind: "text", value: text.slice(last, match.index) });
    result.push({ kind, value });
    last = match.index + value.length;
  }
  if (last < text.length) result.push({ kind: "text", value: text.slice(last) });
  return mergeText(result);
}

function isWebAddress(value) {
  try {
    const url = new URL(value);
    return (url.protocol === "http:" || url.protocol === "https:") && Boolean(url.hostname);
  } catch {
    return false;
  }
}

function mergeText(items) {
  const merged = [];
  for (const item of items) {
    const previous = merged[merged.length - 1];
    if (item.kind === "text" && previous && previous.kind === "text") previous.value += item.value;
    else if (item.value) merged.push({ ...item });
  }
  return merged;
}

/** The nodes of a message's text, for appending to its bubble. */
export function textNodes(doc, text) {
  return pieces(text).map((piece) => {
    if (piece.kind === "link") {
      const link = doc.createElement("a");
      link.href = piece.value;
      link.textContent = piece.value;
      link.target = "_blank";
      link.rel = "noopener noreferrer nofollow";
      return link;
    }
    if (piece.kind === "order") {
      const order = doc.createElement("bdi");
      order.className = "kefu-order";
      order.textContent = piece.value;
      return order;
    }
    return doc.createTextNode(piece.value);
  });
}
