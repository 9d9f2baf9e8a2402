// The Nimbus chat loader: the one script a site owner adds.
//
//   <script src="https://support.example/widget/loader.js" async
//           data-title="Nimbus Store help" data-color="#1f5fbf" data-position="right"
//           data-lang="en" data-greeting="Hi! How can we help?" data-prechat="name,email"></script>
//
// It adds one element (a shadow root holding the launcher button and the
// chat iframe, served from the service at /widget/), no global CSS, and one
// global: window.NimbusChat = {open, close, toggle}. Options, the host page's
// URL and the browser's languages go to the iframe in its URL fragment (never
// sent to a server); open/close/unread travel by postMessage.

(function () {
  if (window.NimbusChat) return;
  var script = document.currentScript;
  if (!script) return;
  var data = script.dataset;
  var service = (data.service || new URL(script.src, location.href).origin).replace(/\/+$/, '');
  var serviceOrigin = new URL(service, location.href).origin;
  var right = data.position !== 'left';
  var color = /^#[0-9a-f]{3,8}$/i.test(data.color || '') ? data.color : '#1f5fbf';
  var textColor = /^#[0-9a-f]{3,8}$/i.test(data.textColor || '') ? data.textColor : '#fff';
  var label = data.title || 'Chat with us';
  var options = {
    title: data.title, color: data.color, textColor: data.textColor, position: data.position,
    lang: data.lang, greeting: data.greeting, prechat: data.prechat,
    page: location.href, locale: navigator.language, locales: navigator.languages,
  };

  var host = document.createElement('div');
  host.setAttribute('data-nimbus-chat', '');
  host.style.cssText = 'all:initial;position:fixed;z-index:2147483000;';
  var root = host.attachShadow({ mode: 'open' });
  var side = right ? 'right' : 'left';
  var style = document.createElement('style');
  style.textContent =
    ':host{all:initial}' +
    '.l{position:fixed;bottom:20px;' + side + ':20px;width:60px;height:60px;border-radius:50%;border:0;cursor:pointer;' +
    'background:' + color + ';color:' + textColor + ';box-shadow:0 4px 14px rgba(0,0,0,.25);display:flex;align-items:center;justify-content:center;padding:0}' +
    '.l:focus-visible{outline:3px solid #f59e0b;outline-offset:3px}.l svg{width:30px;height:30px;fill:currentColor}' +
    '.b{position:absolute;top:-2px;' + side + ':-2px;min-width:20px;height:20px;border-radius:10px;background:#c81e1e;color:#fff;' +
    'font:600 12px/20px system-ui,sans-serif;text-align:center;padding:0 5px;box-sizing:border-box}' +
    '.f{position:fixed;bottom:92px;' + side + ':20px;width:380px;height:min(620px,calc(100vh - 112px));border:0;border-radius:14px;' +
    'box-shadow:0 8px 30px rgba(0,0,0,.28);background:#fff;color-scheme:light;transition:opacity .18s,transform .18s}' +
    '.f.h{display:none}' +
    '@media (max-width:520px),(max-height:560px){.f{inset:0;width:100%;height:100%;border-radius:0}.o .l{display:none}}' +
    '@media (prefers-reduced-motion:reduce){.f{transition:none}}';
  var wrap = document.createElement('div');
  var button = document.createElement('button');
  button.className = 'l';
  button.type = 'button';
  button.setAttribute('aria-label', label);
  button.setAttribute('aria-expanded', 'false');
  button.setAttribute('aria-controls', 'nimbus-chat-frame');
  var ns = 'http://www.w3.org/2000/svg';
  var svg = document.createElementNS(ns, 'svg');
  var path = document.createElementNS(ns, 'path');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  path.setAttribute('d', 'M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2z');
  svg.appendChild(path);
  button.appendChild(svg);
  var badge = document.createElement('span');
  badge.className = 'b';
  badge.hidden = true;
  badge.setAttribute('aria-hidden', 'true');
  button.appendChild(badge);
  var frame = document.createElement('iframe');
  frame.className = 'f h';
  frame.id = 'nimbus-chat-frame';
  frame.title = label;
  frame.setAttribute('sandbox', 'allow-scripts allow-same-origin allow-forms allow-popups allow-downloads'); // downloads: attachments
  frame.src = service + '/widget/#' + encodeURIComponent(JSON.stringify(options));
  wrap.append(button, frame);
  root.append(style, wrap);

  var isOpen = false;
  var unread = 0;
  function tell(type, extra) {
    var msg = { source: 'nimbus-chat', type: type };
    for (var k in extra) msg[k] = extra[k];
    frame.contentWindow.postMessage(msg, serviceOrigin);
  }
  function setBadge(n) {
    unread = n;
    badge.hidden = !n;
    badge.textContent = n > 9 ? '9+' : String(n);
    button.setAttribute('aria-label', n ? label + ' (' + n + ')' : label);
  }
  function open(focus) {
    isOpen = true;
    frame.classList.remove('h');
    wrap.className = 'o';
    button.setAttribute('aria-expanded', 'true');
    setBadge(0);
    if (focus !== false) frame.focus();
    tell('open', { focus: focus !== false });
  }
  function close(fromFrame) {
    isOpen = false;
    frame.classList.add('h');
    wrap.className = '';
    button.setAttribute('aria-expanded', 'false');
    if (!fromFrame) tell('close');
    button.focus();
  }
  button.addEventListener('click', function () {
    isOpen ? close() : open();
  });
  window.addEventListener('message', function (event) {
    var msg = event.data;
    if (event.source !== frame.contentWindow || event.origin !== serviceOrigin || !msg || msg.source !== 'nimbus-chat') return;
    if (msg.type === 'close') close(true);
    else if (msg.type === 'ready' && msg.open && !isOpen) open(false);
    else if (msg.type === 'unread' && !isOpen) setBadge(unread + (msg.count | 0));
  });
  (document.body || document.documentElement).appendChild(host);
  window.NimbusChat = {
    open: function () { open(); },
    close: function () { if (isOpen) close(); },
    toggle: function () { isOpen ? close() : open(); },
  };
})();
