// A tiny element builder, shared by the console and the visitor widget. Text from the
// server goes in through textContent only: this module has no way to set innerHTML.

/**
 * el('button', {class: 'xx-btn', text: 'Claim', attrs: {'aria-label': '…'}, on: {click}}, [children])
 * `class` may be a string or an array (falsy entries are skipped).
 */
export function el(tag, options = {}, children = []) {
  const node = document.createElement(tag);
  const { class: cls, text, attrs, on } = options;
  if (cls) node.className = Array.isArray(cls) ? cls.filter(Boolean).join(' ') : cls;
  if (text !== undefined && text !== null) node.textContent = String(text);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === false || value === null || value === undefined) continue;
    node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const [event, handler] of Object.entries(on || {})) node.addEventListener(event, handler);
  for (const child of [].concat(children)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

let counter = 0;
/** A unique element id, for label/for and aria-* references. */
export function uid(prefix) {
  counter += 1;
  return `${prefix}-${counter}`;
}

/** Keep a scrolled list at the bottom when it was there before an update. */
export function nearBottom(node, slack = 40) {
  return node.scrollHeight - node.scrollTop - node.clientHeight <= slack;
}
